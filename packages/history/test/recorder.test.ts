import { describe, expect, it } from 'vitest';
import { IntervalRecorder, isHistoryError, type ObservedProgram, type ProgramId } from '../src';

const curl: ProgramId = { name: 'curl', path: '/usr/bin/curl', unit: '', container: '' };
const nginx: ProgramId = { name: 'nginx', path: '/usr/sbin/nginx', unit: 'nginx.service', container: '' };

function seen(
  key: string,
  program: ProgramId,
  bytesIn: number,
  bytesOut = 0,
  connections = 1,
): ObservedProgram {
  return {
    key,
    program,
    bytesIn,
    bytesOut,
    packetsIn: bytesIn > 0 ? 1 : 0,
    packetsOut: bytesOut > 0 ? 1 : 0,
    connections,
  };
}

describe('IntervalRecorder', () => {
  it('writes what moved since the last observation, per program, over all its processes', () => {
    const r = new IntervalRecorder();
    r.observe(0, [seen('pid:1', curl, 100), seen('pid:2', curl, 50), seen('pid:9', nginx, 0, 500)]);
    r.observe(1000, [seen('pid:1', curl, 300), seen('pid:2', curl, 150), seen('pid:9', nginx, 0, 2500)]);
    const w = r.take(1000);
    expect(w.start).toBe(0);
    expect(w.end).toBe(1000);
    const byName = Object.fromEntries(w.programs.map((p) => [p.program.name, p]));
    expect(byName.curl).toMatchObject({ bytesIn: 450, bytesOut: 0, connections: 1 });
    // The peak is both processes' rate together in the one second observed: 200 + 100 B/s.
    expect(byName.curl!.peakIn).toBe(300);
    expect(byName.nginx).toMatchObject({ bytesOut: 2500, peakOut: 2000 });
  });

  it('starts the next interval where the last one was taken, with only the new bytes', () => {
    const r = new IntervalRecorder();
    r.observe(0, [seen('pid:1', curl, 100)]);
    r.take(10_000);
    r.observe(11_000, [seen('pid:1', curl, 400)]);
    const w = r.take(20_000);
    expect(w.start).toBe(10_000);
    expect(w.programs).toEqual([expect.objectContaining({ bytesIn: 300, peakIn: 300 / 11 })]);
  });

  it('takes a count that went down as a new one, and a key that left and came back from zero', () => {
    const r = new IntervalRecorder();
    r.observe(0, [seen('pid:1', curl, 1000)]);
    r.observe(1000, []); // the monitor forgot pid:1
    r.observe(2000, [seen('pid:1', curl, 30)]);
    r.observe(3000, [seen('pid:1', curl, 10)]); // a restarted count
    expect(r.take(3000).programs[0]!.bytesIn).toBe(1000 + 30 + 10);
  });

  it('leaves out programs that neither moved bytes nor hold connections', () => {
    const r = new IntervalRecorder();
    r.observe(0, [seen('pid:1', curl, 0, 0, 0)]);
    expect(r.take(1).programs).toEqual([]);
  });

  it('keeps ended connections up to its bound and counts the rest', () => {
    const r = new IntervalRecorder({ maxConnections: 2 });
    const c = {
      start: 0,
      end: 1,
      protocol: 'TCP',
      localAddress: '127.0.0.1',
      localPort: 1,
      remoteAddress: '127.0.0.1',
      remotePort: 2,
      program: curl,
      bytesIn: 0,
      bytesOut: 0,
      packetsIn: 0,
      packetsOut: 0,
    };
    for (let i = 0; i < 5; i++) r.connectionEnded(c);
    expect(r.connectionsDropped).toBe(3);
    const w = r.take(2);
    expect(w.connections).toHaveLength(2);
    expect(w.connectionsDropped).toBe(3);
    expect(r.take(3).connectionsDropped).toBeUndefined();
  });

  it('adds programs past its bound to the unattributed row and counts them', () => {
    const r = new IntervalRecorder({ maxPrograms: 1 });
    r.observe(0, [seen('pid:1', curl, 10), seen('pid:9', nginx, 20)]);
    const w = r.take(1);
    expect(w.programs.map((p) => [p.program.name, p.bytesIn])).toEqual([
      ['curl', 10],
      ['', 20],
    ]);
    expect(r.programsOverflowed).toBe(1);
  });

  it('refuses bounds that are not positive integers', () => {
    expect(() => new IntervalRecorder({ maxConnections: 0 })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
    );
    try {
      new IntervalRecorder({ maxPrograms: 1.5 });
    } catch (error) {
      expect(isHistoryError(error, 'E_INVALID_ARGUMENT')).toBe(true);
    }
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AlertEngine, type AlertSnapshot, BlocklistFiles, parseAlertConfig, programKey } from '../src/index';

const curl = { pid: 10, name: 'curl', path: '/usr/bin/curl' };
const curl2 = { pid: 11, name: 'curl', path: '/usr/bin/curl' };
const ssh = { pid: 20, name: 'ssh', path: '/usr/bin/ssh' };

type Row = AlertSnapshot['programs'][number];
const row = (process: Row['process'], bytesIn: number, rateIn: number, bytesOut = 0, rateOut = 0): Row => ({
  process,
  bytesIn,
  bytesOut,
  rateIn,
  rateOut,
});
const snap = (
  at: number,
  programs: Row[],
  connections: AlertSnapshot['connections'] = [],
): AlertSnapshot => ({
  at,
  programs,
  connections,
});
const rules = (json: unknown[]) => parseAlertConfig({ alerts: { rules: json } }).rules;

describe('AlertEngine', () => {
  it('rate: a program (its processes summed) above the threshold, once per `every`', () => {
    const e = new AlertEngine(rules([{ kind: 'rate', above: '1MB/s', program: 'curl' }]), {
      everyMs: 60_000,
    });
    // Two curl processes at 0.6 MB/s each: 1.2 MB/s for the program.
    const a = e.observe(snap(1000, [row(curl, 0, 600_000), row(curl2, 0, 600_000), row(ssh, 0, 5e6)]));
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({
      rule: { id: 'rate-1', kind: 'rate' },
      program: { name: 'curl', path: '/usr/bin/curl' },
      figures: { rate: 1_200_000, threshold: 1_000_000 },
    });
    expect(a[0]!.program.pid).toBeUndefined(); // two processes: no single pid
    expect(a[0]!.message).toMatch(/curl moved 1\.1 MiB\/s \(above 976\.6 KiB\/s\)/);
    expect(e.observe(snap(2000, [row(curl, 0, 2e6)]))).toEqual([]); // rate-limited
    expect(e.observe(snap(62_000, [row(curl, 0, 2e6)]))).toHaveLength(1);
  });

  it('volume: bytes within a sliding window, by direction', () => {
    const e = new AlertEngine(rules([{ kind: 'volume', above: '10MB', window: '1m', direction: 'in' }]));
    expect(e.observe(snap(0, [row(curl, 0, 0, 50e6)]))).toEqual([]); // only out moved
    expect(e.observe(snap(30_000, [row(curl, 6e6, 0, 50e6)]))).toEqual([]);
    const a = e.observe(snap(50_000, [row(curl, 11e6, 0, 50e6)]));
    expect(a).toHaveLength(1);
    expect(a[0]!.figures).toMatchObject({ bytes: 11e6, threshold: 10e6, windowMs: 60_000 });
    // A slow program never crosses: 5 MB a minute for ten minutes.
    const slow = new AlertEngine(rules([{ kind: 'volume', above: '10MB', window: '1m' }]));
    for (let t = 0; t <= 600_000; t += 10_000)
      expect(slow.observe(snap(t, [row(ssh, (t / 60_000) * 5e6, 0)]))).toEqual([]);
  });

  it('new-program: the programs at the start are the baseline; a later one fires once', () => {
    const e = new AlertEngine(rules([{ kind: 'new-program' }]));
    expect(e.observe(snap(0, [row(curl, 1, 1)]))).toEqual([]);
    // One labelled within the warm-up (3 s) is the baseline too.
    expect(
      e.observe(snap(2000, [row(curl, 2, 1), row({ pid: 5, name: 'late', path: '/bin/late' }, 1, 1)])),
    ).toEqual([]);
    const a = e.observe(snap(4000, [row(curl, 2, 1), row(ssh, 1, 1)]));
    expect(a.map((x) => x.program.name)).toEqual(['ssh']);
    expect(a[0]!.message).toBe('ssh used the network for the first time');
    expect(e.observe(snap(400_000, [row(ssh, 1, 1)]))).toEqual([]); // known now, for good
  });

  it('new-program with a history of known programs: the first snapshot counts too', () => {
    const e = new AlertEngine(rules([{ kind: 'new-program' }]), { known: [programKey(curl)] });
    expect(e.observe(snap(0, [row(curl, 1, 1), row(ssh, 1, 1)])).map((x) => x.program.name)).toEqual(['ssh']);
  });

  it('new-country and new-as: the first is the baseline, a new one fires once with the remote end', () => {
    const e = new AlertEngine(rules([{ kind: 'new-country' }, { kind: 'new-as' }]));
    const to = (address: string, country: string, asn: number) => ({
      label: { status: 'known', process: curl },
      remote: { address, port: 443 },
      country,
      asn,
    });
    expect(e.observe(snap(0, [], [to('8.8.8.8', 'US', 15169)]))).toEqual([]);
    const a = e.observe(snap(1000, [], [to('8.8.8.8', 'US', 15169), to('193.0.6.139', 'NL', 3333)]));
    expect(a.map((x) => x.rule.kind)).toEqual(['new-country', 'new-as']);
    expect(a[0]).toMatchObject({ remote: { address: '193.0.6.139', country: 'NL', asn: 3333 } });
    expect(e.observe(snap(2000, [], [to('193.0.6.139', 'NL', 3333)]))).toEqual([]);
  });

  it('blocklist: a connection to a listed address, with the list read again when its file changes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netwho-alerts-'));
    const file = join(dir, 'block.txt');
    writeFileSync(file, '# bad hosts\n203.0.113.0/24\n');
    const r = rules([{ kind: 'blocklist', id: 'bad', files: [file] }]);
    const e = new AlertEngine(r, { blocklists: new Map([['bad', new BlocklistFiles([file], 0)]]) });
    const to = (address: string) => ({
      label: { status: 'known', process: ssh },
      remote: { address, port: 22 },
    });
    const a = e.observe(snap(0, [], [to('203.0.113.9'), to('198.51.100.1')]));
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({
      rule: { id: 'bad' },
      remote: { address: '203.0.113.9' },
      figures: { port: 22 },
    });
    writeFileSync(file, '198.51.100.1\n');
    expect(e.observe(snap(1000, [], [to('198.51.100.1')]))).toHaveLength(1);
  });

  it('caps alerts per minute and counts the rest', () => {
    const e = new AlertEngine(rules([{ kind: 'rate', above: 1 }]), { maxPerMinute: 2 });
    const programs = Array.from({ length: 5 }, (_, i) =>
      row({ pid: i + 1, name: `p${i}`, path: `/bin/p${i}` }, 0, 10),
    );
    expect(e.observe(snap(0, programs))).toHaveLength(2);
    expect(e.stats()).toMatchObject({ fired: 2, suppressed: 3 });
  });

  it('bounded: past maxPrograms the least recently active program is forgotten, and counted', () => {
    const e = new AlertEngine(rules([{ kind: 'volume', above: '1GB', window: '1m' }]), { maxPrograms: 3 });
    for (let i = 0; i < 10; i++)
      e.observe(snap(i * 1000, [row({ pid: i + 1, name: `p${i}`, path: `/bin/p${i}` }, 1, 1)]));
    expect(e.stats()).toMatchObject({ programs: 3, programsForgotten: 7 });
  });
});

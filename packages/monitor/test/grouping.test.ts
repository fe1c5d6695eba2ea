import { describe, expect, it } from 'vitest';
import { groupPrograms, type ProgramRow } from '../src/index';

const NOW = 1_000_000;
function row(
  pid: number,
  name: string,
  path: string,
  bytes: number,
  lastActive: number,
  extra: Partial<ProgramRow> = {},
): ProgramRow {
  return {
    key: `pid:${pid}`,
    process: { pid, name, path },
    bytesIn: bytes,
    bytesOut: bytes / 2,
    packetsIn: 1,
    packetsOut: 1,
    rateIn: 0,
    rateOut: 0,
    connections: 0,
    openConnections: 0,
    lastActive,
    ...extra,
  };
}

// Twenty finished runs of curl, one running, a service, and traffic not attributed.
const rows: ProgramRow[] = [
  ...Array.from({ length: 20 }, (_, i) => row(100 + i, 'curl', '/usr/bin/curl', 1000, NOW - 60_000 - i)),
  row(200, 'curl', '/usr/bin/curl', 500, NOW - 100, { connections: 1, rateIn: 50 }),
  row(300, 'nginx', '/usr/sbin/nginx', 9000, NOW - 30_000, {
    connections: 2,
    process: {
      pid: 300,
      name: 'nginx',
      path: '/usr/sbin/nginx',
      cgroup: { path: '/system.slice/nginx.service', unit: 'nginx.service' },
    },
  }),
  row(400, 'gone', '', 10, NOW - 60_000),
  {
    key: 'unknown',
    bytesIn: 7,
    bytesOut: 0,
    packetsIn: 1,
    packetsOut: 0,
    rateIn: 0,
    rateOut: 0,
    connections: 0,
    openConnections: 0,
    lastActive: NOW,
  },
];
const sum = (list: { bytesIn: number }[]) => list.reduce((n, r) => n + r.bytesIn, 0);

describe('groupPrograms', () => {
  it('by program: every run of a program is one row, with its process counts, and the totals add up', () => {
    const g = groupPrograms(rows, { by: 'program', now: NOW });
    const curl = g.find((x) => x.key === 'program:/usr/bin/curl')!;
    expect(curl).toMatchObject({
      label: 'curl',
      bytesIn: 20 * 1000 + 500,
      processes: 1,
      inactive: 20,
      connections: 1,
      rateIn: 50,
    });
    expect(curl.process?.pid).toBe(200); // the most recently active run stands for it
    expect(curl.members[0]).toBe('pid:200');
    expect(g.find((x) => x.key === 'name:gone')).toMatchObject({ processes: 0, inactive: 1 });
    expect(g.find((x) => x.key === 'unknown')).toMatchObject({ bytesIn: 7, processes: 0 });
    expect(sum(g)).toBe(sum(rows));
    expect(g).toHaveLength(4);
  });

  it('by pid: active processes one by one, the idle or exited ones of each program folded into one row', () => {
    const g = groupPrograms(rows, { by: 'pid', now: NOW });
    expect(g.map((x) => x.label).sort()).toEqual([
      'curl',
      'curl (20 idle or exited)',
      'gone (1 idle or exited)',
      'nginx', // holds connections: active however long it was quiet
      'unknown',
    ]);
    expect(g.find((x) => x.key === 'idle:program:/usr/bin/curl')!.bytesIn).toBe(20_000);
    expect(sum(g)).toBe(sum(rows));
  });

  it('a longer grace keeps recent runs as rows of their own', () => {
    const g = groupPrograms(rows, { by: 'pid', now: NOW, graceMs: 60_010 });
    expect(g.filter((x) => x.label === 'curl').length).toBe(12); // pid 200 and the runs within 60.01 s
  });

  it('by unit and by container, with the rest under (no unit)', () => {
    const units = groupPrograms(rows, { by: 'unit', now: NOW });
    expect(units.find((x) => x.key === 'unit:nginx.service')).toMatchObject({
      label: 'nginx.service',
      bytesIn: 9000,
    });
    expect(units.find((x) => x.key === 'unit:')!.label).toBe('(no unit)');
    expect(sum(units)).toBe(sum(rows));
    const containers = groupPrograms(rows, { by: 'container', now: NOW });
    expect(containers.map((x) => x.key).sort()).toEqual(['container:', 'unknown']);
    expect(sum(containers)).toBe(sum(rows));
  });
});

describe('by user', () => {
  it('sums the processes of each user; processes whose user is unknown share one row', () => {
    const as = (pid: number, uid: number, name: string, bytes: number) =>
      row(pid, 'curl', '/usr/bin/curl', bytes, NOW, {
        process: { pid, name: 'curl', path: '/usr/bin/curl', user: { uid, name } },
      });
    const groups = groupPrograms(
      [as(1, 0, 'root', 100), as(2, 1000, 'alice', 40), as(3, 1000, 'alice', 60), row(4, 'x', '/x', 5, NOW)],
      {
        by: 'user',
        now: NOW,
      },
    );
    const byLabel = new Map(groups.map((g) => [g.label, g]));
    expect(byLabel.get('alice')).toMatchObject({ key: 'user:1000', bytesIn: 100, processes: 2 });
    expect(byLabel.get('root')).toMatchObject({ key: 'user:0', bytesIn: 100, processes: 1 });
    expect(byLabel.get('(unknown user)')).toMatchObject({ key: 'user:', bytesIn: 5 });
  });
});

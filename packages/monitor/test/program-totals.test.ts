import type { Label } from '@netwho/attributor';
import { describe, expect, it } from 'vitest';
import { ProgramTotals } from '../src/program-totals';
import type { ConnectionRow } from '../src/snapshot';

const known = (pid: number, name: string): Label => ({
  status: 'known',
  process: { pid, name, path: `/usr/bin/${name}` },
});

function row(
  id: number,
  label: Label,
  peer: Label | undefined,
  bytesIn: number,
  bytesOut: number,
): ConnectionRow {
  return {
    id,
    protocol: 'TCP',
    local: { address: '127.0.0.1', port: 40000 + id },
    remote: { address: '127.0.0.1', port: 8000 },
    label,
    ...(peer && { peer }),
    bytesIn,
    bytesOut,
    packetsIn: 1,
    packetsOut: 1,
    firstSeen: 0,
    lastSeen: 0,
    state: id % 2 ? 'open' : 'closing',
  };
}

describe('per-program totals with both ends', () => {
  it('each end counts the bytes its own way; every listed connection is counted, a program talking to itself once', () => {
    const curl = known(10, 'curl');
    const server = known(20, 'python3');
    const totals = new ProgramTotals();
    const rows = totals.rows(
      [row(1, curl, server, 1000, 50), row(2, curl, server, 3000, 70), row(3, server, server, 5, 5)],
      1,
    );
    const of = (pid: number) => rows.find((r) => r.process?.pid === pid)!;
    // Connection 2 is closing: listed (and counted in connections), not open.
    expect(of(10)).toMatchObject({ bytesIn: 4000, bytesOut: 120, connections: 2, openConnections: 1 });
    expect(of(20)).toMatchObject({
      bytesIn: 120 + 10,
      bytesOut: 4000 + 10,
      connections: 3,
      openConnections: 2,
    });
  });
});

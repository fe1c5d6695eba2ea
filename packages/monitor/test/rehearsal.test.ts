import { describe, expect, it } from 'vitest';
import { CaptureMonitor } from '../src/index';
import { isRoot } from './system';

describe('the rehearsal a process runs before its first monitor', () => {
  it('goes the whole way: a TCP connection and a UDP exchange, both ends labelled, counted and ended', () => {
    const { labels, ended } = CaptureMonitor.rehearse();
    const self = { status: 'known', process: { pid: process.pid }, source: 'ebpf' };
    expect(labels).toHaveLength(4); // each end of each flow, from the (made-up) kernel records
    for (const label of labels) expect(label).toMatchObject(self);
    const byProtocol = Object.fromEntries(ended.map((c) => [c.protocol, c]));
    expect(Object.keys(byProtocol).sort()).toEqual(['TCP', 'UDP']);
    expect(byProtocol.TCP).toMatchObject({
      local: { address: '127.0.0.1', port: 40_001 },
      remote: { address: '127.0.0.1', port: 40_002 },
      packetsOut: 4,
      packetsIn: 2,
      label: self,
      peer: self,
      remoteName: 'rehearsal.invalid', // the request's Host: the naming path ran too
    });
    expect(byProtocol.UDP).toMatchObject({ packetsOut: 1, packetsIn: 1, label: self, peer: self });
  });

  it.runIf(process.platform === 'linux' && isRoot)('leaves nothing in the monitor that follows it', () => {
    const monitor = CaptureMonitor.open({ device: 'lo', filter: 'tcp port 40001 or udp port 40003' });
    try {
      const snapshot = monitor.snapshot();
      expect(snapshot.programs).toEqual([]);
      expect(snapshot.connections).toEqual([]);
      expect(monitor.attributor.stats()).toMatchObject({ flows: 0, attributed: 0, tracked: 0 });
      expect(snapshot.owners).toMatchObject({ fromEbpf: 0, fromSocketTable: 0 });
    } finally {
      monitor.close();
    }
  });
});

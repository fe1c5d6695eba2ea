import { type Label, LruMap, type SocketTrafficOptions, SocketTrafficPoller } from '@netwho/attributor';
import { withCgroup } from './cgroups';
import { ProgramTotals } from './program-totals';
import { type NamesOptions, openNames, type RemoteNames } from './remote-names';
import type { ConnectionRow, TrafficMonitor, TrafficSnapshot } from './snapshot';

/**
 * Per-program TCP traffic without capture rights, from the kernel's per-socket counters (see
 * SocketTrafficPoller for what it cannot see). Each snapshot reads the socket table once.
 */
export class SocketTableMonitor implements TrafficMonitor {
  readonly mode = 'socket-table' as const;
  private readonly poller: SocketTrafficPoller;
  private readonly totals = new ProgramTotals();
  private readonly names: RemoteNames;
  /** Each program's unit, container and user, read once per process. */
  private readonly describe = withCgroup(new LruMap(4096));

  /** Throws GeoError when a database named in `names.geo` cannot be opened. */
  constructor(
    options: Omit<SocketTrafficOptions, 'intervalMs'> & { names?: Omit<NamesOptions, 'inspect'> } = {},
  ) {
    this.names = openNames(options.names, false).names;
    this.poller = new SocketTrafficPoller(options);
    this.poller.poll(); // the baseline: traffic before we started is not counted
  }

  snapshot(): TrafficSnapshot {
    const sample = this.poller.poll();
    const connections: ConnectionRow[] = [];
    const live: ConnectionRow[] = [];
    for (const c of sample.connections) {
      const label: Label = c.process
        ? { status: 'known', process: this.describe(c.process) }
        : { status: 'unknown', reason: c.unowned === 'permission' ? 'permission' : 'gave-up' };
      // Deltas are banked; live rows add no bytes (they would count twice) but count connections.
      this.totals.bank({ bytesIn: c.deltaIn, bytesOut: c.deltaOut, packetsIn: 0, packetsOut: 0 }, label);
      const row: ConnectionRow = {
        id: c.id,
        protocol: 'TCP',
        local: c.local,
        remote: c.remote,
        label,
        bytesIn: c.bytesIn,
        bytesOut: c.bytesOut,
        packetsIn: 0,
        packetsOut: 0,
        firstSeen: 0,
        lastSeen: sample.at,
        state: 'open',
        ...this.names.describe(undefined, c.remote.address, sample.at),
      };
      connections.push(row);
      live.push({ ...row, bytesIn: 0, bytesOut: 0 });
    }
    return { at: sample.at, mode: 'socket-table', programs: this.totals.rows(live, sample.at), connections };
  }

  close(): void {
    this.poller.stop();
  }
}

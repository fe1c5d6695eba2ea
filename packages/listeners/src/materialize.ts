import { formatAddress } from './address';
import { IPPROTO_TCP, type SocketTable, STATE_NAMES } from './socket-table';
import type { Listener, Process, UnownedReason } from './types';

/** Turns row `row` of the table into the public Listener object. */
export function toListener(
  table: SocketTable,
  row: number,
  process: Process | undefined,
  unowned?: UnownedReason,
): Listener {
  const family = table.family[row] === 4 ? 4 : 6;
  const tcp = table.protocol[row] === IPPROTO_TCP;
  const listener: Listener = {
    socket: { address: formatAddress(table.localAddress, row * 16, family), port: table.localPort[row]! },
    protocol: tcp ? 'TCP' : 'UDP',
    state: tcp ? (STATE_NAMES[table.state[row]!] ?? 'Unknown') : 'Unknown',
    family,
    inode: table.inode[row]!,
    uid: table.uid[row]!,
  };
  if (process) {
    listener.process = process;
    if (table.fd[row]! >= 0) listener.fd = table.fd[row]!;
  } else listener.unowned = unowned ?? 'vanished';
  if (table.bytesAcked[row]! >= 0) {
    listener.traffic = { bytesAcked: table.bytesAcked[row]!, bytesReceived: table.bytesReceived[row]! };
  }
  // A remote endpoint exists once connected: port 0 is "none" (listening or unconnected UDP).
  if (table.remotePort[row] !== 0) {
    listener.remote = {
      address: formatAddress(table.remoteAddress, row * 16, family),
      port: table.remotePort[row]!,
    };
  }
  return listener;
}

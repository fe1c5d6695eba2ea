import { ListenersError } from '../../errors';
import { IPPROTO_TCP, IPPROTO_UDP, type SocketTable } from '../../socket-table';
import type { Family, Protocol, ScanOptions, SocketSource } from '../../types';
import { localPortFilter } from './bytecode';
import { readProcNet } from './proc-net';
import { type KeepRow, SockDiag } from './sock-diag';

export interface TableFilter {
  /** Only sockets bound to this local port: filtered in the kernel through sock_diag bytecode. */
  localPort?: number;
  /** Only rows this accepts, by inode and local port (checked before a row is copied). */
  keep?: KeepRow;
  /** Ask netlink for each TCP socket's tcp_info byte counters. */
  tcpInfo?: boolean;
}

/**
 * Reads the socket tables asked for into `table`: netlink sock_diag per (protocol, family), or
 * /proc/net when netlink is unavailable or refuses that table (`auto`), or as forced by `source`.
 * Returns the sources actually used.
 */
export function readTables(
  options: Required<Pick<ScanOptions, 'protocols' | 'families' | 'source'>>,
  table: SocketTable,
  filter: TableFilter = {},
): SocketSource[] {
  const used = new Set<SocketSource>();
  const diag = options.source === 'procfs' ? undefined : SockDiag.open();
  if (!diag && options.source === 'netlink') {
    throw new ListenersError(
      'E_SYSTEM',
      'netlink sock_diag is not available here; use source "procfs" or "auto"',
    );
  }
  const bytecode = filter.localPort === undefined ? undefined : localPortFilter(filter.localPort);
  const keepProcNet =
    filter.localPort === undefined
      ? filter.keep
      : (inode: number, port: number) =>
          port === filter.localPort && (!filter.keep || filter.keep(inode, port));
  try {
    for (const protocol of options.protocols) {
      for (const family of options.families) {
        const number = protocolNumber(protocol);
        if (diag) {
          const error = diag.dump(family, number, table, {
            ...(bytecode && { filter: bytecode }),
            ...(filter.keep && { keep: filter.keep }),
            ...(filter.tcpInfo && { tcpInfo: true }),
          });
          if (error === 0) {
            used.add('netlink');
            continue;
          }
          if (options.source === 'netlink') {
            throw new ListenersError(
              'E_SYSTEM',
              `sock_diag refused the ${protocol}/IPv${family} table (errno ${error})`,
            );
          }
        }
        if (readProcNet(number, family as Family, table, keepProcNet)) used.add('procfs');
      }
    }
  } finally {
    diag?.close();
  }
  return [...used];
}

export function protocolNumber(protocol: Protocol): number {
  return protocol === 'TCP' ? IPPROTO_TCP : IPPROTO_UDP;
}

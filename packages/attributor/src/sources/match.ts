import type { Listener } from '@netwho/listeners';
import type { OwnerAnswer, OwnerQuery } from '../types';
import { bindingServes, sameEndpoint } from '../util/endpoints';

/**
 * Picks, among the sockets a scan found on the query's local port, the one that carries the flow,
 * and returns its owner. Pure, so it is tested with plain data.
 *
 * 1. A connected socket whose peer is the flow's remote end is the flow's own socket.
 * 2. Otherwise a listening TCP socket or an unconnected UDP socket bound to the flow's local address
 *    (or a wildcard) serves it: for TCP, the accepted connection belongs to the program that
 *    listens (when the accepted socket is already gone).
 * 3. When the sockets found have no visible owner the answer says why; several owners that are
 *    different programs are `unresolved`, never a guess.
 */
export function answerFor(query: OwnerQuery, sockets: readonly Listener[]): OwnerAnswer {
  const onPort = sockets.filter(
    (s) =>
      s.protocol === query.protocol &&
      s.socket.port === query.local.port &&
      bindingServes(s.socket.address, query.local.address),
  );
  if (onPort.length === 0) return { missing: 'not-found' };

  const exact = onPort.filter((s) => s.remote && sameEndpoint(s.remote, query.remote));
  const open = onPort.filter((s) => !s.remote && (s.protocol === 'UDP' || s.state === 'Listen'));
  const exactOwned = exact.filter((s) => s.process);
  const chosen = exactOwned.length > 0 ? exactOwned : open.filter((s) => s.process);
  if (chosen.length === 0) {
    const all = [...exact, ...open];
    return { missing: all.some((s) => s.unowned === 'permission') ? 'permission' : 'unresolved' };
  }
  const first = chosen[0]!;
  const sameProgram = chosen.every(
    (s) => s.process!.name === first.process!.name && s.process!.path === first.process!.path,
  );
  if (!sameProgram) return { missing: 'unresolved' };
  return {
    owner: {
      process: first.process!,
      inode: first.inode,
      ...(first.fd !== undefined && { fd: first.fd }),
      ...(first.remote && { remote: first.remote }),
      localAddress: first.socket.address,
    },
  };
}

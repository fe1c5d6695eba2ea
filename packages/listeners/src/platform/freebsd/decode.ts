import { IPPROTO_TCP, type SocketTable } from '../../socket-table';
import { BSD_TCP_STATES } from '../macos/decode';
import { DTYPE_SOCKET, INC_ISIPV6, KINFO_PROC, XFILE, XINPCB, XINPGEN, XTCPCB } from './structs';

export type PcbListResult = 'complete' | 'changed' | 'truncated';

/**
 * Decodes a net.inet.{tcp,udp}.pcblist answer: an xinpgen, records that each start with their own
 * length (xtcpcb for TCP, xinpcb for UDP), then a closing xinpgen. When the closing generation
 * differs from the opening one the table changed while the kernel copied it (`changed`: read it
 * again). Rows carry the socket's kernel address in `cookie`, for the join with kern.file. Pure.
 */
export function decodePcbList(
  buf: Uint8Array,
  bytes: number,
  protocol: number,
  table: SocketTable,
): PcbListResult {
  const end = Math.min(bytes, buf.length);
  if (end < XINPGEN.size) return 'truncated';
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headLength = Number(view.getBigUint64(0, true));
  if (headLength < XINPGEN.gen + 8 || headLength > end) return 'truncated';
  const generation = view.getBigUint64(XINPGEN.gen, true);
  const mark = table.count;
  const tcp = protocol === IPPROTO_TCP;
  const minimum = tcp ? XTCPCB.state + 4 : XINPCB.size;
  for (let at = headLength; ; ) {
    if (at + 8 > end) break;
    const length = Number(view.getBigUint64(at, true));
    if (length < 8 || at + length > end) break;
    if (length <= XINPGEN.size) {
      // The closing xinpgen.
      if (length < XINPGEN.gen + 8) break;
      return view.getBigUint64(at + XINPGEN.gen, true) === generation
        ? 'complete'
        : reset(table, mark, 'changed');
    }
    if (length >= minimum)
      addRow(
        buf,
        view,
        tcp ? at + XTCPCB.inp : at,
        tcp ? view.getInt32(at + XTCPCB.state, true) : -1,
        protocol,
        table,
      );
    at += length;
  }
  return reset(table, mark, 'truncated');
}

function reset(table: SocketTable, mark: number, result: PcbListResult): PcbListResult {
  table.count = mark;
  return result;
}

function addRow(
  buf: Uint8Array,
  view: DataView,
  inp: number,
  tcpState: number,
  protocol: number,
  table: SocketTable,
): void {
  const v6 = (buf[inp + XINPCB.incFlags]! & INC_ISIPV6) !== 0;
  const row = table.addRow();
  table.protocol[row] = protocol;
  table.family[row] = v6 ? 6 : 4;
  table.localPort[row] = (buf[inp + XINPCB.lport]! << 8) | buf[inp + XINPCB.lport + 1]!;
  table.remotePort[row] = (buf[inp + XINPCB.fport]! << 8) | buf[inp + XINPCB.fport + 1]!;
  const from = v6 ? 0 : 12;
  const n = v6 ? 16 : 4;
  for (let i = 0; i < n; i++) {
    table.localAddress[row * 16 + i] = buf[inp + XINPCB.laddr + from + i]!;
    table.remoteAddress[row * 16 + i] = buf[inp + XINPCB.faddr + from + i]!;
  }
  table.state[row] = tcpState >= 0 ? (BSD_TCP_STATES[tcpState] ?? 0) : 0;
  table.uid[row] = view.getUint32(inp + XINPCB.uid, true) | 0;
  table.inode[row] = 0;
  table.cookie[row * 2] = view.getUint32(inp + XINPCB.so, true);
  table.cookie[row * 2 + 1] = view.getUint32(inp + XINPCB.so + 4, true);
}

/** Socket kernel address -> owning pid, from a kern.file answer (xfile records; newest pid wins). Pure. */
export function socketOwners(buf: Uint8Array, bytes: number): Map<bigint, { pid: number; fd: number }> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const owners = new Map<bigint, { pid: number; fd: number }>();
  const end = Math.min(bytes, buf.length);
  if (end < 8) return owners;
  // Records are xf_size bytes each (checked on the first: a newer kernel may make them longer).
  const size = Number(view.getBigUint64(0, true));
  if (size < XFILE.data + 8) return owners;
  for (let at = 0; at + size <= end; at += size) {
    if (view.getInt16(at + XFILE.type, true) !== DTYPE_SOCKET) continue;
    const address = view.getBigUint64(at + XFILE.data, true);
    const pid = view.getInt32(at + XFILE.pid, true);
    const known = owners.get(address);
    if (!known || pid > known.pid) owners.set(address, { pid, fd: view.getInt32(at + XFILE.fd, true) });
  }
  return owners;
}

/** Fills each row's pid from `owners` by the socket address in its cookie. */
export function joinOwners(table: SocketTable, owners: Map<bigint, { pid: number; fd: number }>): void {
  for (let row = 0; row < table.count; row++) {
    const address = (BigInt(table.cookie[row * 2 + 1]!) << 32n) | BigInt(table.cookie[row * 2]!);
    const owner = address === 0n ? undefined : owners.get(address);
    if (owner) {
      table.pid[row] = owner.pid;
      table.fd[row] = owner.fd;
    }
  }
}

/** ki_comm of a kinfo_proc answer, or undefined when the answer is not a whole kinfo_proc. Pure. */
export function kinfoComm(buf: Uint8Array, bytes: number): string | undefined {
  if (bytes < KINFO_PROC.comm + KINFO_PROC.commLength || bytes > buf.length) return undefined;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getInt32(KINFO_PROC.structsize, true) !== KINFO_PROC.size) return undefined;
  const comm = Buffer.from(buf.buffer, buf.byteOffset + KINFO_PROC.comm, KINFO_PROC.commLength);
  const nul = comm.indexOf(0);
  return comm.toString('utf8', 0, nul < 0 ? comm.length : nul);
}

import { readFileSync } from 'node:fs';
import { IPPROTO_TCP, type SocketTable } from '../../socket-table';

const HEX: Int8Array = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let i = 0; i < 10; i++) t[48 + i] = i;
  for (let i = 0; i < 6; i++) {
    t[65 + i] = 10 + i;
    t[97 + i] = 10 + i;
  }
  return t;
})();

const SPACE = 32;
const NEWLINE = 10;

/**
 * Parses the text of /proc/net/{tcp,tcp6,udp,udp6} (net/ipv4/tcp_ipv4.c get_tcp4_sock and friends)
 * into `table`, reading the bytes in place:
 *
 *   sl  local_address rem_address   st tx_queue:rx_queue tr:tm->when retrnsmt   uid  timeout inode
 *    0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 41235 ...
 *
 * Addresses are the kernel's 32-bit words printed with %08X, so each word's bytes appear in host
 * order (reversed on little-endian machines); ports are printed in host order. A malformed line is
 * skipped, never half-added. The kernel prints the table a page at a time, walking its hash
 * buckets anew for each read(), so while connections come and go the same socket can be printed
 * twice: a socket (by inode) is added once. Returns the number of rows added.
 */
export function parseProcNet(
  text: Uint8Array,
  protocol: number,
  family: 4 | 6,
  table: SocketTable,
  keep?: (inode: number, localPort: number) => boolean,
  littleEndian = true,
): number {
  const before = table.count;
  const addressDigits = family === 4 ? 8 : 32;
  let pos = text.indexOf(NEWLINE) + 1; // skip the header line
  if (pos === 0) return 0;
  const seen = new Set<number>();
  while (pos < text.length) {
    const end = lineEnd(text, pos);
    parseLine(text, pos, end, protocol, family, addressDigits, table, keep, littleEndian, seen);
    pos = end + 1;
  }
  return table.count - before;
}

function lineEnd(text: Uint8Array, from: number): number {
  const i = text.indexOf(NEWLINE, from);
  return i < 0 ? text.length : i;
}

/** Returns the start of field `n` (0-based, space-separated) at or after `pos`, or -1. */
function skipFields(text: Uint8Array, pos: number, end: number, n: number): number {
  for (let field = 0; ; field++) {
    while (pos < end && text[pos] === SPACE) pos++;
    if (pos >= end) return -1;
    if (field === n) return pos;
    while (pos < end && text[pos] !== SPACE) pos++;
  }
}

function readHex(text: Uint8Array, pos: number, digits: number): number {
  let value = 0;
  for (let i = 0; i < digits; i++) {
    const d = HEX[text[pos + i]!]!;
    if (d < 0) return -1;
    value = value * 16 + d;
  }
  return value;
}

function readDecimal(text: Uint8Array, pos: number, end: number): number {
  let value = 0;
  let digits = 0;
  while (pos < end && text[pos]! >= 48 && text[pos]! <= 57) {
    value = value * 10 + text[pos]! - 48;
    pos++;
    digits++;
  }
  return digits === 0 || digits > 15 ? -1 : value;
}

/** Copies an address of `digits` hex digits into 16-byte slot `row` of `out`; false if malformed. */
function readAddress(
  text: Uint8Array,
  pos: number,
  digits: number,
  out: Uint8Array,
  row: number,
  le: boolean,
): boolean {
  for (let word = 0; word < digits / 8; word++) {
    const value = readHex(text, pos + word * 8, 8);
    if (value < 0) return false;
    const at = row * 16 + word * 4;
    for (let b = 0; b < 4; b++)
      out[at + b] = le ? (value >>> (8 * b)) & 0xff : (value >>> (24 - 8 * b)) & 0xff;
  }
  return true;
}

function parseLine(
  text: Uint8Array,
  start: number,
  end: number,
  protocol: number,
  family: 4 | 6,
  digits: number,
  table: SocketTable,
  keep: ((inode: number, localPort: number) => boolean) | undefined,
  le: boolean,
  seen: Set<number>,
): void {
  const local = skipFields(text, start, end, 1);
  if (local < 0 || local + digits + 5 > end || text[local + digits] !== 58 /* : */) return;
  const localPort = readHex(text, local + digits + 1, 4);
  const remote = skipFields(text, local, end, 1);
  if (remote < 0 || remote + digits + 5 > end) return;
  const remotePort = readHex(text, remote + digits + 1, 4);
  const state = readHex(text, skipFields(text, remote, end, 1), 2);
  const uidAt = skipFields(text, remote, end, 5);
  const inodeAt = skipFields(text, remote, end, 7);
  if (localPort < 0 || remotePort < 0 || state < 0 || uidAt < 0 || inodeAt < 0) return;
  const uid = readDecimal(text, uidAt, end);
  const inode = readDecimal(text, inodeAt, end);
  if (uid < 0 || inode < 0 || inode > 0xffffffff) return;
  if (keep && !keep(inode, localPort)) return;
  // Inode 0: no socket file (TIME_WAIT, and sockets being closed): nothing to tell them apart by.
  if (inode !== 0) {
    if (seen.has(inode)) return;
    seen.add(inode);
  }
  const row = table.addRow();
  if (
    !readAddress(text, local, digits, table.localAddress, row, le) ||
    !readAddress(text, remote, digits, table.remoteAddress, row, le)
  ) {
    table.dropLastRow();
    return;
  }
  table.protocol[row] = protocol;
  table.family[row] = family;
  table.state[row] = protocol === IPPROTO_TCP ? state : 0;
  table.localPort[row] = localPort;
  table.remotePort[row] = remotePort;
  table.uid[row] = uid | 0;
  table.inode[row] = inode;
}

/** Reads one /proc/net table into `table`. Returns false when the file does not exist (no such protocol). */
export function readProcNet(
  protocol: number,
  family: 4 | 6,
  table: SocketTable,
  keep?: (inode: number, localPort: number) => boolean,
): boolean {
  const file = `/proc/net/${protocol === IPPROTO_TCP ? 'tcp' : 'udp'}${family === 6 ? '6' : ''}`;
  let text: Buffer;
  try {
    text = readFileSync(file);
  } catch {
    return false;
  }
  parseProcNet(text, protocol, family, table, keep);
  return true;
}

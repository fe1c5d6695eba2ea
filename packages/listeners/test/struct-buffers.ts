// Byte buffers laid out field by field as the documented C structs are, for the backends that
// cannot run here. Offsets are written out from the headers (cited per builder), independently of
// the koffi declarations the backends use, so a mistake in either shows.

const ip4 = (address: string) => address.split('.').map(Number);
function ip6(address: string): number[] {
  const [head, tail = ''] = address.split('::');
  const words = (s: string) => (s ? s.split(':').map((w) => Number.parseInt(w, 16)) : []);
  const h = words(head!);
  const t = words(tail);
  const all = address.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill(0), ...t] : h;
  return all.flatMap((w) => [w >> 8, w & 255]);
}

// ---- Windows: tcpmib.h / udpmib.h / tlhelp32.h ----

export interface WinRow {
  state?: number; // MIB_TCP_STATE
  local: string;
  localPort: number;
  remote?: string;
  remotePort?: number;
  pid: number;
}

/** A DWORD whose low 16 bits hold `port` in network order: bytes [hi, lo, 0, 0]. */
function portDword(buf: Buffer, at: number, port: number): void {
  buf[at] = port >> 8;
  buf[at + 1] = port & 255;
}

/** MIB_TCPTABLE_OWNER_PID: dwNumEntries, then 24-byte MIB_TCPROW_OWNER_PID rows. */
export function winTcp4(rows: WinRow[]): Buffer {
  const buf = Buffer.alloc(4 + rows.length * 24);
  buf.writeUInt32LE(rows.length, 0);
  rows.forEach((r, i) => {
    const at = 4 + i * 24;
    buf.writeUInt32LE(r.state ?? 5, at); // dwState
    buf.set(ip4(r.local), at + 4); // dwLocalAddr
    portDword(buf, at + 8, r.localPort); // dwLocalPort
    buf.set(ip4(r.remote ?? '0.0.0.0'), at + 12); // dwRemoteAddr
    portDword(buf, at + 16, r.remotePort ?? 0); // dwRemotePort
    buf.writeUInt32LE(r.pid, at + 20); // dwOwningPid
  });
  return buf;
}

/** MIB_TCP6TABLE_OWNER_PID: 56-byte rows (addr[16], scope, port, addr[16], scope, port, state, pid). */
export function winTcp6(rows: WinRow[]): Buffer {
  const buf = Buffer.alloc(4 + rows.length * 56);
  buf.writeUInt32LE(rows.length, 0);
  rows.forEach((r, i) => {
    const at = 4 + i * 56;
    buf.set(ip6(r.local), at);
    portDword(buf, at + 20, r.localPort);
    buf.set(ip6(r.remote ?? '::'), at + 24);
    portDword(buf, at + 44, r.remotePort ?? 0);
    buf.writeUInt32LE(r.state ?? 5, at + 48);
    buf.writeUInt32LE(r.pid, at + 52);
  });
  return buf;
}

/** MIB_UDPTABLE_OWNER_PID: 12-byte rows (addr, port, pid). */
export function winUdp4(rows: WinRow[]): Buffer {
  const buf = Buffer.alloc(4 + rows.length * 12);
  buf.writeUInt32LE(rows.length, 0);
  rows.forEach((r, i) => {
    const at = 4 + i * 12;
    buf.set(ip4(r.local), at);
    portDword(buf, at + 4, r.localPort);
    buf.writeUInt32LE(r.pid, at + 8);
  });
  return buf;
}

/** MIB_UDP6TABLE_OWNER_PID: 28-byte rows (addr[16], scope, port, pid). */
export function winUdp6(rows: WinRow[]): Buffer {
  const buf = Buffer.alloc(4 + rows.length * 28);
  buf.writeUInt32LE(rows.length, 0);
  rows.forEach((r, i) => {
    const at = 4 + i * 28;
    buf.set(ip6(r.local), at);
    portDword(buf, at + 20, r.localPort);
    buf.writeUInt32LE(r.pid, at + 24);
  });
  return buf;
}

/** PROCESSENTRY32W on x64: 568 bytes; th32ProcessID at 8, szExeFile (WCHAR[260]) at 44. */
export function processEntry(pid: number, exeFile: string): Buffer {
  const buf = Buffer.alloc(568);
  buf.writeUInt32LE(568, 0);
  buf.writeUInt32LE(pid, 8);
  buf.write(exeFile, 44, 'utf16le');
  return buf;
}

// ---- macOS: sys/proc_info.h ----

export interface MacSocket {
  family: 'inet' | 'inet6' | 'unix';
  protocol: 6 | 17;
  /** An IPv4 connection on a dual-stack AF_INET6 socket (insi_vflag INI_IPV4). */
  mapped?: boolean;
  local: string;
  localPort: number;
  remote?: string;
  remotePort?: number;
  /** TSI_S_* for TCP. */
  state?: number;
  handle: bigint;
  uid?: number;
}

/**
 * struct socket_fdinfo (792 bytes): proc_fileinfo (24), then socket_info: soi_stat (vinfo_stat,
 * 136: vst_uid at 16), soi_so at 136, soi_protocol at 156, soi_family at 160, soi_kind at 232,
 * soi_proto at 240: in_sockinfo (insi_fport 0, insi_lport 4, insi_vflag 24, insi_faddr 32,
 * insi_laddr 48; 80 bytes), then for TCP tcpsi_state at 80.
 */
export function socketFdInfo(s: MacSocket): Buffer {
  const buf = Buffer.alloc(792);
  const psi = 24;
  buf.writeUInt32LE(s.uid ?? 501, psi + 16);
  buf.writeBigUInt64LE(s.handle, psi + 136);
  buf.writeInt32LE(s.protocol, psi + 156);
  buf.writeInt32LE(s.family === 'inet' ? 2 : s.family === 'inet6' ? 30 : 1, psi + 160);
  buf.writeInt32LE(s.family === 'unix' ? 3 : s.protocol === 6 ? 2 : 1, psi + 232); // SOCKINFO_UN/TCP/IN
  const ini = psi + 240;
  buf.writeUInt16BE(s.remotePort ?? 0, ini + 0);
  buf.writeUInt16BE(s.localPort, ini + 4);
  const v4 = s.family === 'inet' || s.mapped;
  buf[ini + 24] = v4 ? 1 : 2;
  if (v4) {
    buf.set(ip4(s.remote ?? '0.0.0.0'), ini + 32 + 12);
    buf.set(ip4(s.local), ini + 48 + 12);
  } else {
    buf.set(ip6(s.remote ?? '::'), ini + 32);
    buf.set(ip6(s.local), ini + 48);
  }
  if (s.protocol === 6) buf.writeInt32LE(s.state ?? 4, ini + 80);
  return buf;
}

/** proc_fdinfo records: int32 proc_fd, uint32 proc_fdtype (PROX_FDTYPE_SOCKET 2). */
export function fdList(fds: Array<[fd: number, type: number]>): Buffer {
  const buf = Buffer.alloc(fds.length * 8);
  fds.forEach(([fd, type], i) => {
    buf.writeInt32LE(fd, i * 8);
    buf.writeUInt32LE(type, i * 8 + 4);
  });
  return buf;
}

// ---- FreeBSD: netinet/in_pcb.h, sys/socketvar.h, netinet/tcp_var.h, sys/file.h, sys/user.h ----

export interface BsdPcb {
  v6?: boolean;
  local: string;
  localPort: number;
  remote?: string;
  remotePort?: number;
  /** TCPS_* for TCP. */
  state?: number;
  socket: bigint;
  uid?: number;
}

/** struct xinpgen (64 bytes): xig_len 0, xig_count 8, xig_gen 16, xig_sogen 24. */
function xinpgen(count: number, gen: bigint): Buffer {
  const buf = Buffer.alloc(64);
  buf.writeBigUInt64LE(64n, 0);
  buf.writeUInt32LE(count, 8);
  buf.writeBigUInt64LE(gen, 16);
  return buf;
}

/**
 * struct xinpcb (400 bytes) at `at`: xi_len 0; xi_socket (xsocket, 240 bytes) at 8 (xso_so at +8,
 * xso_family at +100, so_uid at +120); inp_inc (in_conninfo) at 248: inc_flags 248, ie_fport 252,
 * ie_lport 254, ie_dependfaddr 256, ie_dependladdr 272; inp_vflag at 392.
 */
function writeXinpcb(buf: Buffer, at: number, p: BsdPcb): void {
  buf.writeBigUInt64LE(400n, at);
  buf.writeBigUInt64LE(p.socket, at + 8 + 8);
  buf.writeInt32LE(p.v6 ? 28 : 2, at + 8 + 100);
  buf.writeUInt32LE(p.uid ?? 1001, at + 8 + 120);
  buf[at + 248] = p.v6 ? 1 : 0;
  buf.writeUInt16BE(p.remotePort ?? 0, at + 252);
  buf.writeUInt16BE(p.localPort, at + 254);
  if (p.v6) {
    buf.set(ip6(p.remote ?? '::'), at + 256);
    buf.set(ip6(p.local), at + 272);
  } else {
    buf.set(ip4(p.remote ?? '0.0.0.0'), at + 256 + 12);
    buf.set(ip4(p.local), at + 272 + 12);
  }
  buf[at + 392] = p.v6 ? 2 : 1;
}

/**
 * A net.inet.tcp.pcblist answer: xinpgen, xtcpcb records (744 bytes: xt_len 0, xt_inp at 8,
 * t_state at 568), xinpgen trailer. `trailerGen` differs from `gen` when the table changed.
 */
export function tcpPcbList(pcbs: BsdPcb[], gen = 7n, trailerGen = gen): Buffer {
  const records = pcbs.map((p) => {
    const buf = Buffer.alloc(744);
    buf.writeBigUInt64LE(744n, 0);
    writeXinpcb(buf, 8, p);
    buf.writeInt32LE(p.state ?? 4, 568);
    return buf;
  });
  return Buffer.concat([xinpgen(pcbs.length, gen), ...records, xinpgen(pcbs.length, trailerGen)]);
}

/** A net.inet.udp.pcblist answer: xinpgen, xinpcb records (400 bytes), xinpgen. */
export function udpPcbList(pcbs: BsdPcb[], gen = 9n): Buffer {
  const records = pcbs.map((p) => {
    const buf = Buffer.alloc(400);
    writeXinpcb(buf, 0, p);
    return buf;
  });
  return Buffer.concat([xinpgen(pcbs.length, gen), ...records, xinpgen(pcbs.length, gen)]);
}

/** kern.file: struct xfile records (128 bytes: xf_size 0, xf_pid 8, xf_fd 16, xf_type 32, xf_data 56). */
export function xfiles(files: Array<{ pid: number; fd: number; type: number; data: bigint }>): Buffer {
  const buf = Buffer.alloc(files.length * 128);
  files.forEach((f, i) => {
    const at = i * 128;
    buf.writeBigUInt64LE(128n, at);
    buf.writeInt32LE(f.pid, at + 8);
    buf.writeInt32LE(f.fd, at + 16);
    buf.writeInt16LE(f.type, at + 32);
    buf.writeBigUInt64LE(f.data, at + 56);
  });
  return buf;
}

/** struct kinfo_proc (1088 bytes on LP64): ki_structsize 0, ki_pid 72, ki_comm (char[20]) at 447. */
export function kinfoProc(pid: number, comm: string): Buffer {
  const buf = Buffer.alloc(1088);
  buf.writeInt32LE(1088, 0);
  buf.writeInt32LE(pid, 72);
  buf.write(comm.slice(0, 19), 447, 'utf8');
  return buf;
}

import koffi, { type TypeObject } from 'koffi';

// The libproc structs read here, from <sys/proc_info.h> (XNU, bsd/sys/proc_info.h), declared once
// as anonymous koffi types (no global type names, so two copies of the package can load side by
// side): koffi lays them out with the C rules of LP64 (macOS on x86_64 and arm64), and the
// decoder reads fields at the offsets koffi computes.

/** struct proc_fdinfo: int32_t proc_fd; uint32_t proc_fdtype. */
export const proc_fdinfo = koffi.struct({
  proc_fd: 'int32_t',
  proc_fdtype: 'uint32_t',
});

/** struct proc_fileinfo: uint32_t fi_openflags, fi_status; off_t fi_offset; int32_t fi_type; uint32_t fi_guardflags. */
export const proc_fileinfo = koffi.struct({
  fi_openflags: 'uint32_t',
  fi_status: 'uint32_t',
  fi_offset: 'int64_t',
  fi_type: 'int32_t',
  fi_guardflags: 'uint32_t',
});

/** struct vinfo_stat: a copy of stat64 with fixed-size fields. */
export const vinfo_stat = koffi.struct({
  vst_dev: 'uint32_t',
  vst_mode: 'uint16_t',
  vst_nlink: 'uint16_t',
  vst_ino: 'uint64_t',
  vst_uid: 'uint32_t',
  vst_gid: 'uint32_t',
  vst_atime: 'int64_t',
  vst_atimensec: 'int64_t',
  vst_mtime: 'int64_t',
  vst_mtimensec: 'int64_t',
  vst_ctime: 'int64_t',
  vst_ctimensec: 'int64_t',
  vst_birthtime: 'int64_t',
  vst_birthtimensec: 'int64_t',
  vst_size: 'int64_t',
  vst_blocks: 'int64_t',
  vst_blksize: 'int32_t',
  vst_flags: 'uint32_t',
  vst_gen: 'uint32_t',
  vst_rdev: 'uint32_t',
  vst_qspare: koffi.array('int64_t', 2),
});

/** struct sockbuf_info. */
const sockbuf_info = koffi.struct({
  sbi_cc: 'uint32_t',
  sbi_hiwat: 'uint32_t',
  sbi_mbcnt: 'uint32_t',
  sbi_mbmax: 'uint32_t',
  sbi_lowat: 'uint32_t',
  sbi_flags: 'int16_t',
  sbi_timeo: 'int16_t',
});

/** union { struct in4in6_addr ina_46; struct in6_addr ina_6; }: 16 bytes, 4-aligned; IPv4 in the last 4. */
const in_addr_46 = koffi.array('uint32_t', 4);

/** struct in_sockinfo: ports in network order in the low bytes of an int; insi_vflag INI_IPV4 1 / INI_IPV6 2. */
export const in_sockinfo = koffi.struct({
  insi_fport: 'int',
  insi_lport: 'int',
  insi_gencnt: 'uint64_t',
  insi_flags: 'uint32_t',
  insi_flow: 'uint32_t',
  insi_vflag: 'uint8_t',
  insi_ip_ttl: 'uint8_t',
  rfu_1: 'uint32_t',
  insi_faddr: in_addr_46,
  insi_laddr: in_addr_46,
  insi_v4: koffi.struct({ in4_tos: 'uint8_t' }),
  insi_v6: koffi.struct({
    in6_hlim: 'uint8_t',
    in6_cksum: 'int',
    in6_ifindex: 'uint16_t',
    in6_hops: 'int16_t',
  }),
});

/** struct tcp_sockinfo: in_sockinfo, then tcpsi_state (TSI_S_*). */
export const tcp_sockinfo = koffi.struct({
  tcpsi_ini: in_sockinfo,
  tcpsi_state: 'int',
  tcpsi_timer: koffi.array('int', 4),
  tcpsi_mss: 'int',
  tcpsi_flags: 'uint32_t',
  rfu_1: 'uint32_t',
  tcpsi_tp: 'uint64_t',
});

/** struct un_sockinfo: the biggest member of soi_proto (two SOCK_MAXADDRLEN (255) addresses). */
const un_sockinfo = koffi.struct({
  unsi_conn_so: 'uint64_t',
  unsi_conn_pcb: 'uint64_t',
  unsi_addr: koffi.array('uint8_t', 255),
  unsi_caddr: koffi.array('uint8_t', 255),
});

/** struct socket_info: soi_kind says which soi_proto member is filled (SOCKINFO_IN 1, SOCKINFO_TCP 2). */
export const socket_info = koffi.struct({
  soi_stat: vinfo_stat,
  soi_so: 'uint64_t',
  soi_pcb: 'uint64_t',
  soi_type: 'int',
  soi_protocol: 'int',
  soi_family: 'int',
  soi_options: 'int16_t',
  soi_linger: 'int16_t',
  soi_state: 'int16_t',
  soi_qlen: 'int16_t',
  soi_incqlen: 'int16_t',
  soi_qlimit: 'int16_t',
  soi_timeo: 'int16_t',
  soi_error: 'uint16_t',
  soi_oobmark: 'uint32_t',
  soi_rcv: sockbuf_info,
  soi_snd: sockbuf_info,
  soi_kind: 'int',
  rfu_1: 'uint32_t',
  soi_proto: koffi.union({
    pri_in: in_sockinfo,
    pri_tcp: tcp_sockinfo,
    pri_un: un_sockinfo,
  }),
});

/** struct socket_fdinfo: what proc_pidfdinfo(PROC_PIDFDSOCKETINFO) fills. */
export const socket_fdinfo = koffi.struct({ pfi: proc_fileinfo, psi: socket_info });

const at = (type: TypeObject, field: string) => koffi.offsetof(type, field);
const psi = at(socket_fdinfo, 'psi');
const proto = psi + at(socket_info, 'soi_proto');

/** Byte offsets in a socket_fdinfo, computed from the declarations above. */
export const SOCKET_FDINFO = {
  size: koffi.sizeof(socket_fdinfo),
  so: psi + at(socket_info, 'soi_so'),
  uid: psi + at(socket_info, 'soi_stat') + at(vinfo_stat, 'vst_uid'),
  protocol: psi + at(socket_info, 'soi_protocol'),
  family: psi + at(socket_info, 'soi_family'),
  kind: psi + at(socket_info, 'soi_kind'),
  fport: proto + at(in_sockinfo, 'insi_fport'),
  lport: proto + at(in_sockinfo, 'insi_lport'),
  vflag: proto + at(in_sockinfo, 'insi_vflag'),
  faddr: proto + at(in_sockinfo, 'insi_faddr'),
  laddr: proto + at(in_sockinfo, 'insi_laddr'),
  tcpState: proto + at(tcp_sockinfo, 'tcpsi_state'),
  /** Bytes a TCP answer must have to hold tcpsi_state. */
  tcpMinimum: proto + at(tcp_sockinfo, 'tcpsi_state') + 4,
  inMinimum: proto + koffi.sizeof(in_sockinfo),
} as const;

export const PROC_FDINFO_SIZE = koffi.sizeof(proc_fdinfo);

export const PROC_ALL_PIDS = 1;
export const PROC_PIDLISTFDS = 1;
export const PROC_PIDFDSOCKETINFO = 3;
export const PROX_FDTYPE_SOCKET = 2;
export const SOCKINFO_IN = 1;
export const SOCKINFO_TCP = 2;
export const INI_IPV4 = 0x1;
export const INI_IPV6 = 0x2;
export const AF_INET = 2;
export const AF_INET6 = 30;
/** PROC_PIDPATHINFO_MAXSIZE: 4 * MAXPATHLEN. */
export const PROC_PIDPATHINFO_MAXSIZE = 4 * 1024;

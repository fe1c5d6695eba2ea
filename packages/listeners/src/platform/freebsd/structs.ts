import koffi, { type TypeObject } from 'koffi';

// The sysctl export structs read here (FreeBSD 12 to 15, amd64/arm64), declared once as koffi types
// so koffi computes their layout with the C rules of LP64. Sources: <sys/socketvar.h> (struct
// xsocket), <netinet/in_pcb.h> (struct in_endpoints, in_conninfo, xinpcb, xinpgen),
// <netinet/tcp_var.h> (struct xtcpcb), <sys/file.h> (struct xfile), <sys/user.h> (struct kinfo_proc).
// kvaddr_t and ksize_t are 64-bit on every architecture.

const xsockbuf = koffi.struct({
  sb_cc: 'uint32_t',
  sb_hiwat: 'uint32_t',
  sb_mbcnt: 'uint32_t',
  sb_mcnt: 'uint32_t',
  sb_ccnt: 'uint32_t',
  sb_mbmax: 'uint32_t',
  sb_lowat: 'int32_t',
  sb_timeo: 'int32_t',
  sb_flags: 'int16_t',
});

/** struct xsocket: xso_so is the kernel address of the socket, matched against xfile.xf_data. */
export const xsocket = koffi.struct({
  xso_len: 'uint64_t',
  xso_so: 'uint64_t',
  so_pcb: 'uint64_t',
  so_oobmark: 'uint64_t',
  so_spare64: koffi.array('int64_t', 8),
  xso_protocol: 'int32_t',
  xso_family: 'int32_t',
  so_qlen: 'uint32_t',
  so_incqlen: 'uint32_t',
  so_qlimit: 'uint32_t',
  so_pgid: 'int32_t',
  so_uid: 'uint32_t',
  so_spare32: koffi.array('int32_t', 8),
  so_type: 'int16_t',
  so_options: 'int16_t',
  so_linger: 'int16_t',
  so_state: 'int16_t',
  so_timeo: 'int16_t',
  so_error: 'uint16_t',
  so_rcv: xsockbuf,
  so_snd: xsockbuf,
});

/** struct in_endpoints: ports in network order; union in_dependaddr (IPv4 in its last 4 bytes). */
const in_endpoints = koffi.struct({
  ie_fport: 'uint16_t',
  ie_lport: 'uint16_t',
  ie_dependfaddr: koffi.array('uint32_t', 4),
  ie_dependladdr: koffi.array('uint32_t', 4),
  ie6_zoneid: 'uint32_t',
});

/** struct in_conninfo: inc_flags (INC_ISIPV6 0x1), then the endpoints. */
export const in_conninfo = koffi.struct({
  inc_flags: 'uint8_t',
  inc_len: 'uint8_t',
  inc_fibnum: 'uint16_t',
  inc_ie: in_endpoints,
});

/** struct xinpcb (__aligned(8)): the record of net.inet.udp.pcblist, and the head of an xtcpcb. */
export const xinpcb = koffi.struct({
  xi_len: 'uint64_t',
  xi_socket: xsocket,
  inp_inc: in_conninfo,
  inp_gencnt: 'uint64_t',
  inp_ppcb: 'uint64_t',
  inp_spare64: koffi.array('int64_t', 4),
  inp_flow: 'uint32_t',
  inp_flowid: 'uint32_t',
  inp_flowtype: 'uint32_t',
  inp_flags: 'int32_t',
  inp_flags2: 'int32_t',
  inp_rss_listen_bucket: 'int32_t',
  in6p_cksum: 'int32_t',
  inp_spare32: koffi.array('int32_t', 4),
  in6p_hops: 'uint16_t',
  inp_ip_tos: 'uint8_t',
  pad8: 'int8_t',
  inp_vflag: 'uint8_t',
  inp_ip_ttl: 'uint8_t',
  inp_ip_p: 'uint8_t',
  inp_ip_minttl: 'uint8_t',
  inp_spare8: koffi.array('int8_t', 4),
});

/**
 * struct xtcpcb, up to t_state: xt_stack[32] (TCP_FUNCTION_NAME_LEN_MAX), xt_logid[64]
 * (TCP_LOG_ID_LEN), then 64 bytes (FreeBSD 12: spare64[8]; 13+: xt_cc[16] and spare64[6]).
 */
export const xtcpcb_head = koffi.struct({
  xt_len: 'uint64_t',
  xt_inp: xinpcb,
  xt_stack: koffi.array('char', 32),
  xt_logid: koffi.array('char', 64),
  xt_cc_and_spare: koffi.array('int64_t', 8),
  t_state: 'int32_t',
});

/** struct xinpgen (__aligned(8)): the header and trailer of a pcblist. */
export const xinpgen = koffi.struct({
  xig_len: 'uint64_t',
  xig_count: 'uint32_t',
  _xig_spare32: 'uint32_t',
  xig_gen: 'uint64_t',
  xig_sogen: 'uint64_t',
  _xig_spare64: koffi.array('uint64_t', 4),
});

/** struct xfile: one open file of kern.file; xf_data is the socket's kernel address for DTYPE_SOCKET. */
export const xfile = koffi.struct({
  xf_size: 'uint64_t',
  xf_pid: 'int32_t',
  xf_uid: 'uint32_t',
  xf_fd: 'int32_t',
  _xf_int_pad1: 'int32_t',
  xf_file: 'uint64_t',
  xf_type: 'int16_t',
  _xf_short_pad1: 'int16_t',
  xf_count: 'int32_t',
  xf_msgcount: 'int32_t',
  _xf_int_pad2: 'int32_t',
  xf_offset: 'int64_t',
  xf_data: 'uint64_t',
  xf_vnode: 'uint64_t',
  xf_flag: 'uint32_t',
  _xf_int_pad3: 'int32_t',
  _xf_int64_pad: koffi.array('int64_t', 6),
});

/** struct kinfo_proc, up to ki_comm (COMMLEN 19 + 1); the whole struct is KINFO_PROC_SIZE (1088) on LP64. */
export const kinfo_proc_head = koffi.struct({
  ki_structsize: 'int',
  ki_layout: 'int',
  ki_pointers: koffi.array('uint64_t', 8), // ki_args .. ki_wchan
  ki_pid: 'int32_t',
  ki_ppid: 'int32_t',
  ki_pgid: 'int32_t',
  ki_tpgid: 'int32_t',
  ki_sid: 'int32_t',
  ki_tsid: 'int32_t',
  ki_jobc: 'int16_t',
  ki_spare_short1: 'int16_t',
  ki_tdev_freebsd11: 'uint32_t',
  ki_signals: koffi.array('uint32_t', 16), // siglist, sigmask, sigignore, sigcatch (sigset_t: 4 x u32)
  ki_uid: 'uint32_t',
  ki_ruid: 'uint32_t',
  ki_svuid: 'uint32_t',
  ki_rgid: 'uint32_t',
  ki_svgid: 'uint32_t',
  ki_ngroups: 'int16_t',
  ki_spare_short2: 'int16_t',
  ki_groups: koffi.array('uint32_t', 16), // KI_NGROUPS
  ki_size: 'uint64_t',
  ki_sizes: koffi.array('int64_t', 5), // rssize, swrss, tsize, dsize, ssize
  ki_xstat: 'uint16_t',
  ki_acflag: 'uint16_t',
  ki_pctcpu: 'uint32_t',
  ki_estcpu: 'uint32_t',
  ki_slptime: 'uint32_t',
  ki_swtime: 'uint32_t',
  ki_cow: 'uint32_t',
  ki_runtime: 'uint64_t',
  ki_start: koffi.array('int64_t', 2), // struct timeval
  ki_childtime: koffi.array('int64_t', 2),
  ki_flag: 'int64_t',
  ki_kiflag: 'int64_t',
  ki_traceflag: 'int32_t',
  ki_stat: 'char',
  ki_nice: 'int8_t',
  ki_lock: 'char',
  ki_rqindex: 'char',
  ki_oncpu_old: 'uint8_t',
  ki_lastcpu_old: 'uint8_t',
  ki_tdname: koffi.array('char', 17), // TDNAMLEN + 1
  ki_wmesg: koffi.array('char', 9), // WMESGLEN + 1
  ki_login: koffi.array('char', 18), // LOGNAMELEN + 1
  ki_lockname: koffi.array('char', 9), // LOCKNAMELEN + 1
  ki_comm: koffi.array('char', 20), // COMMLEN + 1
});

const at = (type: TypeObject, field: string) => koffi.offsetof(type, field);
const ep = at(in_conninfo, 'inc_ie');

/** Offsets inside an xinpcb, computed from the declarations above. */
export const XINPCB = {
  size: koffi.sizeof(xinpcb),
  so: at(xinpcb, 'xi_socket') + at(xsocket, 'xso_so'),
  uid: at(xinpcb, 'xi_socket') + at(xsocket, 'so_uid'),
  family: at(xinpcb, 'xi_socket') + at(xsocket, 'xso_family'),
  incFlags: at(xinpcb, 'inp_inc') + at(in_conninfo, 'inc_flags'),
  fport: at(xinpcb, 'inp_inc') + ep + at(in_endpoints, 'ie_fport'),
  lport: at(xinpcb, 'inp_inc') + ep + at(in_endpoints, 'ie_lport'),
  faddr: at(xinpcb, 'inp_inc') + ep + at(in_endpoints, 'ie_dependfaddr'),
  laddr: at(xinpcb, 'inp_inc') + ep + at(in_endpoints, 'ie_dependladdr'),
  vflag: at(xinpcb, 'inp_vflag'),
} as const;

export const XTCPCB = { inp: at(xtcpcb_head, 'xt_inp'), state: at(xtcpcb_head, 't_state') } as const;
export const XINPGEN = { size: koffi.sizeof(xinpgen), gen: at(xinpgen, 'xig_gen') } as const;
export const XFILE = {
  size: koffi.sizeof(xfile),
  pid: at(xfile, 'xf_pid'),
  fd: at(xfile, 'xf_fd'),
  type: at(xfile, 'xf_type'),
  data: at(xfile, 'xf_data'),
} as const;
export const KINFO_PROC = {
  size: 1088,
  structsize: 0,
  comm: at(kinfo_proc_head, 'ki_comm'),
  commLength: 20,
} as const;

export const INC_ISIPV6 = 0x1;
export const INP_IPV4 = 0x1;
export const DTYPE_SOCKET = 2;
/** sysctl MIBs: CTL_KERN 1, KERN_PROC 14, KERN_PROC_PID 1, KERN_PROC_PATHNAME 12. */
export const CTL_KERN = 1;
export const KERN_PROC = 14;
export const KERN_PROC_PID = 1;
export const KERN_PROC_PATHNAME = 12;
export const ENOMEM = 12;

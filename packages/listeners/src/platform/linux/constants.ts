// Numbers from the Linux UAPI headers; the header each comes from is named beside it.

// <bits/socket.h>, <linux/netlink.h>, <linux/sock_diag.h>
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const SOCK_DGRAM = 2;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_RCVTIMEO = 20; // SO_RCVTIMEO_OLD on 64-bit: struct timeval
export const NETLINK_SOCK_DIAG = 4;
export const SOCK_DIAG_BY_FAMILY = 20;
export const NLM_F_REQUEST = 0x1;
export const NLM_F_DUMP = 0x300; // NLM_F_ROOT | NLM_F_MATCH
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

// <linux/inet_diag.h>
export const INET_DIAG_REQ_BYTECODE = 1;
/** Reply attribute carrying struct tcp_info; asked for by bit (1 << (INET_DIAG_INFO - 1)) of idiag_ext. */
export const INET_DIAG_INFO = 2;
/** Reply attribute (u8) of IPv6 sockets that listen or are closed: whether IPV6_V6ONLY is set (net/ipv4/inet_diag.c). */
export const INET_DIAG_SKV6ONLY = 11;
export const INET_DIAG_BC_S_GE = 2;
export const INET_DIAG_BC_S_LE = 3;
export const INET_DIAG_NOCOOKIE = 0xffffffff;
/**
 * TCP states to dump, as a bit per state (include/net/tcp_states.h): ESTABLISHED(1) to CLOSING(11).
 * Leaves out NEW_SYN_RECV (12), the kernel's half-open request sockets: no process holds them until
 * accept(), so they would only add ownerless rows.
 */
export const TCP_STATES_ALL = 0xffe;
export const UDP_STATES_ALL = 0xffffffff;

// <fcntl.h>
export const O_RDONLY = 0;
export const O_DIRECTORY = 0o200000;
export const O_CLOEXEC = 0o2000000;
export const AT_SYMLINK_NOFOLLOW = 0x100;
// <linux/stat.h>
export const STATX_UID = 0x8;

// <asm-generic/errno-base.h>, <asm-generic/errno.h>
export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const EAGAIN = 11;
export const EACCES = 13;
export const EINVAL = 22;
export const EPROTONOSUPPORT = 93;
export const EAFNOSUPPORT = 97;
export const ECONNREFUSED = 111;

// Byte layouts of the kernel structs we read and write, offsets in bytes. Netlink uses the host's
// byte order for its own fields (little-endian on every Linux we target); ports and addresses in
// inet_diag_sockid are network order (big-endian).

/** struct nlmsghdr, <linux/netlink.h>: u32 len, u16 type, u16 flags, u32 seq, u32 pid. */
export const NLMSGHDR = { size: 16, len: 0, type: 4, flags: 6, seq: 8, pid: 12 } as const;

/** struct nlattr, <linux/netlink.h>: u16 len, u16 type, then the payload, aligned to 4. */
export const NLATTR = { size: 4, len: 0, type: 2 } as const;

/**
 * struct inet_diag_sockid, <linux/inet_diag.h>: be16 sport, be16 dport, be32 src[4], be32 dst[4],
 * u32 if, u32 cookie[2]. 48 bytes.
 */
export const SOCKID = { size: 48, sport: 0, dport: 2, src: 4, dst: 20, if: 36, cookie: 40 } as const;

/**
 * struct inet_diag_req_v2, <linux/inet_diag.h>: u8 sdiag_family, u8 sdiag_protocol, u8 idiag_ext,
 * u8 pad, u32 idiag_states, struct inet_diag_sockid id. 56 bytes.
 */
export const INET_DIAG_REQ_V2 = { size: 56, family: 0, protocol: 1, ext: 2, states: 4, id: 8 } as const;

/**
 * struct inet_diag_msg, <linux/inet_diag.h>: u8 family, u8 state, u8 timer, u8 retrans,
 * struct inet_diag_sockid id, u32 expires, u32 rqueue, u32 wqueue, u32 uid, u32 inode. 72 bytes;
 * attributes (struct nlattr) may follow.
 */
export const INET_DIAG_MSG = {
  size: 72,
  family: 0,
  state: 1,
  id: 4,
  sport: 4,
  dport: 6,
  src: 8,
  dst: 24,
  cookie: 44,
  uid: 64,
  inode: 68,
} as const;

/** struct inet_diag_bc_op, <linux/inet_diag.h>: u8 code, u8 yes, u16 no. A port operand is a second op whose `no` holds the port. */
export const INET_DIAG_BC_OP = { size: 4, code: 0, yes: 1, no: 2 } as const;

/** struct linux_dirent64, getdents64(2): u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, char d_name[]. */
export const DIRENT64 = { ino: 0, off: 8, reclen: 16, type: 18, name: 19 } as const;

/** struct statx, <linux/stat.h>: u32 stx_mask, u32 stx_blksize, u64 stx_attributes, u32 stx_nlink, u32 stx_uid, ... 256 bytes. */
export const STATX = { size: 256, mask: 0, uid: 20 } as const;

/** struct timeval on 64-bit Linux: s64 tv_sec, s64 tv_usec. */
export const TIMEVAL = { size: 16, sec: 0, usec: 8 } as const;

/**
 * struct tcp_info, <linux/tcp.h>: 8 u8 fields, 24 u32 (tcpi_rto .. tcpi_total_retrans), then u64
 * tcpi_pacing_rate, tcpi_max_pacing_rate, tcpi_bytes_acked, tcpi_bytes_received (Linux 4.1+).
 */
export const TCP_INFO = { bytesAcked: 120, bytesReceived: 128, minSize: 136 } as const;

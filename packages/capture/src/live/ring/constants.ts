/** Constants of the Linux packet socket API (<linux/if_packet.h>, <linux/if_ether.h>, <sys/socket.h>). */

export const AF_PACKET = 17;
export const SOCK_RAW = 3;
/** A cooked socket: the kernel removes the link header and gives it in sockaddr_ll instead. */
export const SOCK_DGRAM = 2;
export const SOCK_CLOEXEC = 0o2000000;
export const SOCK_NONBLOCK = 0o4000;
/** ETH_P_ALL, in network byte order where a socket call takes it (htons(0x0003)). */
export const ETH_P_ALL = 0x0003;

export const SOL_SOCKET = 1;
export const SO_ERROR = 4;
export const SO_ATTACH_FILTER = 26;

export const SOL_PACKET = 263;
export const PACKET_ADD_MEMBERSHIP = 1;
export const PACKET_MR_PROMISC = 1;
export const PACKET_RX_RING = 5;
export const PACKET_STATISTICS = 6;
export const PACKET_VERSION = 10;
export const PACKET_IGNORE_OUTGOING = 23;
export const TPACKET_V2 = 1;
export const TPACKET_V3 = 2;

/** tp_status and block_status bits. */
export const TP_STATUS_KERNEL = 0;
export const TP_STATUS_USER = 1 << 0;
export const TP_STATUS_VLAN_VALID = 1 << 4;
export const TP_STATUS_VLAN_TPID_VALID = 1 << 6;

/** sll_pkttype values (<linux/if_packet.h>). */
export const PACKET_OUTGOING = 4;

/** ARPHRD_* device types (<linux/if_arp.h>), as /sys/class/net/DEV/type shows them. */
export const ARPHRD_ETHER = 1;
export const ARPHRD_LOOPBACK = 772;
/** No link header at all (tun devices, WireGuard): frames start with the IP header. */
export const ARPHRD_NONE = 0xfffe;

/** poll(2) events (<poll.h>). */
export const POLLIN = 0x1;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;

/** mmap(2) (<sys/mman.h>). */
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;

/** errno values (<asm-generic/errno-base.h>, <asm-generic/errno.h>). */
export const EPERM = 1;
export const EINTR = 4;
export const EACCES = 13;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENOMEM = 12;
export const ENETDOWN = 100;
export const ENXIO = 6;

/** EFD_CLOEXEC | EFD_NONBLOCK (<sys/eventfd.h>). */
export const EFD_FLAGS = 0o2000000 | 0o4000;

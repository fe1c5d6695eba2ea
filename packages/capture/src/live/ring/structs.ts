import { endianness } from 'node:os';

/**
 * Layouts of the structs the ring shares with the kernel, from <linux/if_packet.h> (TPACKET_V3,
 * and TPACKET_V2 for immediate delivery). All fields are in the machine's byte order except where
 * marked big-endian; offsets are bytes.
 */

/** struct tpacket_req: four __u32 (block size, block count, frame size, frame count), for TPACKET_V2. */
export const Req2 = { SIZE: 16, BLOCK_SIZE: 0, BLOCK_NR: 4, FRAME_SIZE: 8, FRAME_NR: 12 } as const;

/** struct tpacket_req3: seven __u32, the argument of setsockopt(PACKET_RX_RING). */
export const Req3 = {
  SIZE: 28,
  BLOCK_SIZE: 0,
  BLOCK_NR: 4,
  FRAME_SIZE: 8,
  FRAME_NR: 12,
  RETIRE_BLK_TOV: 16,
  SIZEOF_PRIV: 20,
  FEATURE_REQ_WORD: 24,
} as const;

/**
 * struct tpacket_block_desc { __u32 version; __u32 offset_to_priv; struct tpacket_hdr_v1 hdr; }
 * with tpacket_hdr_v1 { block_status, num_pkts, offset_to_first_pkt, blk_len; aligned_u64
 * seq_num; struct tpacket_bd_ts ts_first_pkt, ts_last_pkt; }.
 */
export const Block = {
  HEADER_SIZE: 48,
  STATUS: 8,
  NUM_PKTS: 12,
  OFFSET_TO_FIRST_PKT: 16,
  BLK_LEN: 20,
  SEQ_NUM: 24,
} as const;

/**
 * struct tpacket3_hdr (48 bytes): tp_next_offset, tp_sec, tp_nsec, tp_snaplen, tp_len, tp_status
 * (__u32 each), tp_mac, tp_net (__u16), then hv1 { __u32 tp_rxhash; __u32 tp_vlan_tci; __u16
 * tp_vlan_tpid; __u16 tp_padding; } and 8 bytes of padding. tp_mac and tp_net are offsets from
 * the start of this header.
 */
export const Frame = {
  NEXT_OFFSET: 0,
  SEC: 4,
  NSEC: 8,
  SNAPLEN: 12,
  LEN: 16,
  STATUS: 20,
  MAC: 24,
  NET: 26,
  VLAN_TCI: 32,
  VLAN_TPID: 36,
  /** TPACKET_ALIGN(sizeof(struct tpacket3_hdr)): where the kernel puts the sockaddr_ll. */
  SOCKADDR: 48,
} as const;

/**
 * struct tpacket2_hdr (32 bytes): tp_status, tp_len, tp_snaplen (__u32), tp_mac, tp_net (__u16),
 * tp_sec, tp_nsec (__u32), tp_vlan_tci, tp_vlan_tpid (__u16), tp_padding[4]. Frames sit at fixed
 * places: tp_frame_size apart, tp_block_size / tp_frame_size of them in each block.
 */
export const Frame2 = {
  STATUS: 0,
  LEN: 4,
  SNAPLEN: 8,
  MAC: 12,
  SEC: 16,
  NSEC: 20,
  VLAN_TCI: 24,
  VLAN_TPID: 26,
  /** TPACKET_ALIGN(sizeof(struct tpacket2_hdr)). */
  SOCKADDR: 32,
} as const;

/**
 * Where the fields a packet is made of sit in a frame header, for either version (offsets of
 * 16-bit fields are in 16-bit units' byte offsets; VLAN_TCI is the 16 bits that hold the TCI:
 * V3's tp_vlan_tci is a __u32, whose low half is at +0 little-endian and +2 big-endian).
 */
export interface FrameLayout {
  STATUS: number;
  LEN: number;
  SNAPLEN: number;
  MAC: number;
  SEC: number;
  NSEC: number;
  VLAN_TCI: number;
  VLAN_TPID: number;
  SOCKADDR: number;
}

export const V3_LAYOUT: FrameLayout = {
  STATUS: Frame.STATUS,
  LEN: Frame.LEN,
  SNAPLEN: Frame.SNAPLEN,
  MAC: Frame.MAC,
  SEC: Frame.SEC,
  NSEC: Frame.NSEC,
  VLAN_TCI: Frame.VLAN_TCI + (endianness() === 'LE' ? 0 : 2),
  VLAN_TPID: Frame.VLAN_TPID,
  SOCKADDR: Frame.SOCKADDR,
};

export const V2_LAYOUT: FrameLayout = Frame2;

/**
 * struct sockaddr_ll (<linux/if_packet.h>, 20 bytes): sll_family (u16), sll_protocol (u16,
 * big-endian), sll_ifindex (i32), sll_hatype (u16), sll_pkttype (u8), sll_halen (u8), sll_addr[8].
 */
export const SockaddrLl = {
  SIZE: 20,
  FAMILY: 0,
  PROTOCOL: 2,
  IFINDEX: 4,
  HATYPE: 8,
  PKTTYPE: 10,
  HALEN: 11,
  ADDR: 12,
} as const;

/** The room the kernel leaves between a frame's sockaddr_ll and its data, at least (see net/packet/af_packet.c, tpacket_rcv). */
export const FRAME_HEADERS = Frame.SOCKADDR + SockaddrLl.SIZE;

/** struct tpacket_stats_v3 { __u32 tp_packets, tp_drops, tp_freeze_q_cnt; }; V2's struct tpacket_stats is the first two. */
export const StatsV3 = { SIZE: 12, PACKETS: 0, DROPS: 4, FREEZE_Q_CNT: 8 } as const;

/** struct packet_mreq { int mr_ifindex; unsigned short mr_type, mr_alen; unsigned char mr_address[8]; }. */
export const PacketMreq = { SIZE: 16, IFINDEX: 0, TYPE: 4 } as const;

/** struct pollfd { int fd; short events; short revents; } (<poll.h>). */
export const PollFd = { SIZE: 8, FD: 0, EVENTS: 4, REVENTS: 6 } as const;

/** struct sock_fprog { unsigned short len; struct sock_filter *filter; } (<linux/filter.h>), 64-bit. */
export const SockFprog = { SIZE: 16, LEN: 0, FILTER: 8 } as const;

/** The two link-layer headers the ring writes in front of cooked (SOCK_DGRAM) frames, and a VLAN tag. */
export const SLL2_HEADER = 20;
export const VLAN_TAG = 4;

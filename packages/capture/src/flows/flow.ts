/** TCP flags as DecodedPacket.tcpFlags holds them. */
export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

/** What the flow table saw of a TCP connection's handshake and teardown (bits of Flow.tcp). */
export const TcpSeen = {
  /** A SYN without ACK: the connection was opened during the capture. */
  SYN: 1,
  SYN_ACK: 2,
  FIN_LOCAL: 4,
  FIN_REMOTE: 8,
  RST: 16,
} as const;

export interface Endpoint {
  address: string;
  port: number;
}

/**
 * A flow: the packets of one 5-tuple, both directions together. "Local" is this machine's side when
 * its addresses tell (`localKnown`); otherwise (both sides local, as on loopback, or neither, as in
 * a capture of others' traffic) it is the side that opened the flow: the SYN's sender, or the
 * sender of the first packet seen.
 */
export interface Flow {
  /** Unique for the table's life, never reused. */
  id: number;
  ipVersion: 4 | 6;
  /** IP protocol number: 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6. */
  protocol: number;
  local: Endpoint;
  remote: Endpoint;
  /** True when `local` was told by the machine's addresses, not by who opened the flow. */
  localKnown: boolean;
  /** True when both addresses are this machine's: both ends are programs here (loopback, say). */
  bothLocal: boolean;
  /** Bytes on the wire (whole frames, as captured-from lengths), and packets, in each direction. */
  bytesOut: number;
  bytesIn: number;
  packetsOut: number;
  packetsIn: number;
  /** Times of the first and last packet, in milliseconds since 1970. */
  firstSeen: number;
  lastSeen: number;
  /** TcpSeen bits (0 for other protocols). */
  tcp: number;
  /**
   * The SYN (without ACK) that opened a TCP flow, when the flow's first packet was one: its
   * sequence number (the sender's initial sequence number) and whether `local` sent it.
   */
  syn?: { seq: number; fromLocal: boolean };
}

/** Why a flow left the table. */
export type FlowEndReason = 'closed' | 'idle' | 'evicted';

export function protocolName(protocol: number): string {
  switch (protocol) {
    case 6:
      return 'TCP';
    case 17:
      return 'UDP';
    case 1:
      return 'ICMP';
    case 58:
      return 'ICMPv6';
    default:
      return String(protocol);
  }
}

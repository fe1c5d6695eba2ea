/** The layer a decoder works on, named in a decode error. */
export type DecodeLayer =
  | 'link'
  | 'ethernet'
  | 'sll'
  | 'loopback'
  | 'ipv4'
  | 'ipv6'
  | 'arp'
  | 'tcp'
  | 'udp'
  | 'icmp';

/**
 * Why a packet was decoded only in part. `truncated`: the capture holds fewer bytes than the header
 * needs (a short snaplen, or a cut packet). `malformed`: the bytes present contradict themselves
 * (a length field too small, a wrong version). `unsupported`: a valid layer we do not decode.
 */
export type DecodeError = 'truncated' | 'malformed' | 'unsupported';

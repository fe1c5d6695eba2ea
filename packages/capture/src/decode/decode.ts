import { decodeArp } from './arp';
import { decodeEthernet } from './ethernet';
import { decodeIcmp } from './icmp';
import { decodeIpv4 } from './ipv4';
import { decodeIpv6 } from './ipv6';
import { EtherType, IpProtocol, LinkType } from './link-types';
import { decodeLoopback } from './loopback';
import { DecodedPacket } from './packet';
import { decodeSll, decodeSll2 } from './sll';
import { decodeTcp } from './tcp';
import { decodeUdp } from './udp';

/**
 * Decodes one captured frame of link type `linkType` into `into`, layer by layer, as far as the
 * bytes allow. The frame is `data[start, end)` (default: all of `data`), so a frame inside a larger
 * buffer decodes in place, without a view made for it. Never throws and never reads outside that
 * range: a packet that stops early says why in `error` and `errorLayer`, with every layer before it
 * filled in.
 */
export function decodePacket(
  data: Uint8Array,
  linkType: number,
  into: DecodedPacket = new DecodedPacket(),
  start = 0,
  end: number = data.length,
): DecodedPacket {
  const p = into.reset(data, linkType, start, end);
  const network = decodeLink(data, p);
  if (network < 0) return p;
  let transport: number;
  switch (p.etherType) {
    case EtherType.IPV4:
      transport = decodeIpv4(data, network, p);
      break;
    case EtherType.IPV6:
      transport = decodeIpv6(data, network, p);
      break;
    case EtherType.ARP:
      decodeArp(data, network, p);
      return p;
    default:
      return p;
  }
  if (transport < 0) return p;
  const ipEnd = Math.max(transport, network + p.ipLength);
  switch (p.protocol) {
    case IpProtocol.TCP:
      decodeTcp(data, transport, ipEnd, p);
      break;
    case IpProtocol.UDP:
      decodeUdp(data, transport, ipEnd, p);
      break;
    case IpProtocol.ICMP:
    case IpProtocol.ICMPV6:
      decodeIcmp(data, transport, ipEnd, p);
      break;
  }
  return p;
}

/** Decodes the link layer; returns the network layer's offset (p.etherType says which), or -1. */
function decodeLink(data: Uint8Array, p: DecodedPacket): number {
  const start = p.start;
  switch (p.linkType) {
    case LinkType.ETHERNET:
      return decodeEthernet(data, start, p);
    case LinkType.LINUX_SLL:
      return decodeSll(data, start, p);
    case LinkType.LINUX_SLL2:
      return decodeSll2(data, start, p);
    case LinkType.NULL:
    case LinkType.LOOP:
      return decodeLoopback(data, start, p);
    case LinkType.RAW:
      if (p.end === start) return p.fail('link', 'truncated');
      p.etherType = data[start]! >> 4 === 6 ? EtherType.IPV6 : EtherType.IPV4;
      return start;
    case LinkType.IPV4:
      p.etherType = EtherType.IPV4;
      return start;
    case LinkType.IPV6:
      p.etherType = EtherType.IPV6;
      return start;
    default:
      return p.fail('link', 'unsupported');
  }
}

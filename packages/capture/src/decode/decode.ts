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
 * Decodes `data` (one captured frame of link type `linkType`) into `into`, layer by layer, as far as
 * the bytes allow. Never throws and never reads outside `data`: a packet that stops early says why
 * in `error` and `errorLayer`, with every layer before it filled in.
 */
export function decodePacket(
  data: Uint8Array,
  linkType: number,
  into: DecodedPacket = new DecodedPacket(),
): DecodedPacket {
  const p = into.reset(data, linkType);
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
  switch (p.linkType) {
    case LinkType.ETHERNET:
      return decodeEthernet(data, 0, p);
    case LinkType.LINUX_SLL:
      return decodeSll(data, 0, p);
    case LinkType.LINUX_SLL2:
      return decodeSll2(data, 0, p);
    case LinkType.NULL:
    case LinkType.LOOP:
      return decodeLoopback(data, 0, p);
    case LinkType.RAW:
      if (data.length === 0) return p.fail('link', 'truncated');
      p.etherType = data[0]! >> 4 === 6 ? EtherType.IPV6 : EtherType.IPV4;
      return 0;
    case LinkType.IPV4:
      p.etherType = EtherType.IPV4;
      return 0;
    case LinkType.IPV6:
      p.etherType = EtherType.IPV6;
      return 0;
    default:
      return p.fail('link', 'unsupported');
  }
}

import { addressText } from '../decode/address';
import { IpProtocol } from '../decode/link-types';
import type { DecodedPacket } from '../decode/packet';
import { decodeDns, isDnsPort } from './dns';
import { DnsNames, type DnsNamesOptions, type DnsNamesStats } from './dns-names';
import { decodeHttpHost } from './http';
import { quicClientHello } from './quic';
import { decodeClientHello, MAX_CLIENT_HELLO } from './tls';

/** Where a remote end's name came from: what the program asked for first, then the DNS answer that gave it the address. */
export type NameSource = 'tls-sni' | 'quic-sni' | 'http-host' | 'dns';

export interface RemoteName {
  name: string;
  source: NameSource;
}

export interface FlowNamesOptions extends DnsNamesOptions {
  /** Flows whose first bytes are being read at once, at most (the oldest is given up first). Default 4,096. */
  maxPending?: number;
  /** Packets of a flow's opener looked at before giving up on naming it from them. Default 8. */
  maxPackets?: number;
  /** Names of flows kept until `forget`, at most (the oldest is forgotten first, and counted). Default 65,536. */
  maxNamed?: number;
}

export interface FlowNamesStats {
  named: number;
  unnamed: number;
  evicted: number;
  /** Names dropped because `maxNamed` flows were named and not forgotten. */
  forgotten: number;
  pending: number;
  dns: DnsNamesStats;
}

interface Pending {
  /** The opener's bytes so far, in order (TCP) or its first datagrams (QUIC). */
  bytes: Uint8Array;
  length: number;
  nextSeq: number;
  datagrams: Uint8Array[];
  packets: number;
}

/**
 * Names the remote end of flows from their first packets only: the TLS SNI, QUIC SNI or HTTP Host
 * the opener sent (joined across TCP segments in order, at most 16 KiB), else the name whose DNS
 * answer this machine saw for the address. Feed it every packet with its flow id and whether the
 * flow's local end sent it; ask `nameOf`. Bounded: per-flow state is kept only while a flow's
 * first packets are read, for at most `maxPending` flows.
 */
export class FlowNames {
  readonly dns: DnsNames;
  private readonly named = new Map<number, RemoteName>();
  private readonly pending = new Map<number, Pending>();
  private readonly done = new Set<number>();
  private readonly maxPending: number;
  private readonly maxPackets: number;
  private readonly maxNamed: number;
  private readonly counts = { named: 0, unnamed: 0, evicted: 0, forgotten: 0 };

  constructor(options: FlowNamesOptions = {}) {
    this.dns = new DnsNames(options);
    this.maxPending = options.maxPending ?? 4096;
    this.maxPackets = options.maxPackets ?? 8;
    this.maxNamed = options.maxNamed ?? 65_536;
  }

  /**
   * Looks at one packet of flow `flowId` (`outgoing`: sent by the flow's local end, its opener when
   * both are local). `sent`, the packets the local end has sent so far (FlowTable's `lastSent`),
   * lets a flow past its first packets cost nothing but this comparison.
   */
  add(p: DecodedPacket, flowId: number, outgoing: boolean, nowMs: number, sent = 0): void {
    if (p.payloadOffset < 0 || p.payloadLength === 0) return;
    if (isDnsPort(p.srcPort) || isDnsPort(p.dstPort)) {
      const tcp = p.protocol === IpProtocol.TCP;
      if (!tcp && p.protocol !== IpProtocol.UDP) return;
      // Only successful responses with answers teach a name: the header says so before decoding.
      if (!answersSomething(p.data, p.payloadOffset + (tcp ? 2 : 0), p.payloadOffset + p.payloadLength))
        return;
      const message = decodeDns(p.data, p.payloadOffset, p.payloadOffset + p.payloadLength, { tcp });
      if (typeof message !== 'string') this.dns.observe(message, nowMs);
      return;
    }
    if (!outgoing || flowId < 0) return;
    // Past its first packets (payload or not): named, given up, or to be given up now.
    if (sent > this.maxPackets * 2) {
      if (sent === this.maxPackets * 2 + 1 && this.pending.has(flowId)) {
        this.giveUp(flowId);
        this.counts.unnamed++;
      }
      return;
    }
    if (this.done.has(flowId) || this.named.has(flowId)) return;
    let state = this.pending.get(flowId);
    if (!state && p.protocol === IpProtocol.TCP) {
      // Most openers' first segment holds the whole ClientHello or request head: read it in place,
      // and keep state (a copy of the bytes) only for one that goes on in the next segments.
      const found = readOpener(p.data, p.payloadOffset, p.payloadOffset + p.payloadLength);
      if (found !== undefined) {
        this.settle(flowId, found);
        return;
      }
    }
    if (!state) {
      if (this.pending.size >= this.maxPending) {
        this.giveUp(this.pending.keys().next().value as number);
        this.counts.evicted++;
      }
      state = { bytes: new Uint8Array(0), length: 0, nextSeq: p.seq, datagrams: [], packets: 0 };
      this.pending.set(flowId, state);
    }
    state.packets++;
    const found = p.protocol === IpProtocol.TCP ? this.tcp(state, p) : this.udp(state, p);
    if (found !== undefined || state.packets >= this.maxPackets) this.settle(flowId, found ?? null);
  }

  /** A flow's first packets said what they had to say: its name, or none (null). */
  private settle(flowId: number, found: RemoteName | null): void {
    this.pending.delete(flowId);
    if (!found) {
      this.giveUp(flowId);
      this.counts.unnamed++;
      return;
    }
    this.named.set(flowId, found);
    this.counts.named++;
    if (this.named.size > this.maxNamed) {
      this.named.delete(this.named.keys().next().value as number);
      this.counts.forgotten++;
    }
  }

  /**
   * Flows named from their first packets, flows whose first packets carried no name (not TLS,
   * HTTP or QUIC, or no SNI), and flows given up unread because `maxPending` others were being
   * read (a loss: they may have had a name); the DNS cache's own counts.
   */
  stats(): FlowNamesStats {
    return { ...this.counts, pending: this.pending.size, dns: this.dns.stats() };
  }

  /** The name of flow `flowId`'s remote end at `address`: what its opener asked for, else the DNS answer's name. */
  nameOf(flowId: number, address: string, nowMs: number): RemoteName | undefined {
    const asked = this.named.get(flowId);
    if (asked) return asked;
    const fromDns = this.dns.nameOf(address, nowMs);
    return fromDns ? { name: fromDns, source: 'dns' } : undefined;
  }

  /** Forgets a flow that ended. */
  forget(flowId: number): void {
    this.named.delete(flowId);
    this.pending.delete(flowId);
    this.done.delete(flowId);
  }

  private giveUp(flowId: number): void {
    this.pending.delete(flowId);
    this.done.add(flowId);
    if (this.done.size > this.maxPending * 4) this.done.delete(this.done.values().next().value as number);
  }

  /** TCP: the opener's bytes in sequence order; undefined: more needed; null: not a name-bearing protocol. */
  private tcp(state: Pending, p: DecodedPacket): RemoteName | undefined | null {
    if (p.seq !== state.nextSeq) return state.length === 0 ? undefined : null; // a retransmit or a gap
    const need = state.length + p.payloadLength;
    if (need > MAX_CLIENT_HELLO) return null;
    if (state.bytes.length < need) {
      const grown = new Uint8Array(Math.min(MAX_CLIENT_HELLO, Math.max(need, state.bytes.length * 2, 2048)));
      grown.set(state.bytes.subarray(0, state.length));
      state.bytes = grown;
    }
    state.bytes.set(p.data.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength), state.length);
    state.length = need;
    state.nextSeq = (p.seq + p.payloadLength) >>> 0;
    return readOpener(state.bytes, 0, state.length);
  }

  /** UDP: QUIC client Initials (the first datagrams a client sends to port 443 or others). */
  private udp(state: Pending, p: DecodedPacket): RemoteName | undefined | null {
    if ((p.data[p.payloadOffset]! & 0xc0) !== 0xc0) return null; // not a long-header QUIC packet
    state.datagrams.push(p.data.slice(p.payloadOffset, p.payloadOffset + p.payloadLength));
    const hello = quicClientHello(state.datagrams);
    if (typeof hello !== 'string')
      return hello.serverName ? { name: hello.serverName, source: 'quic-sni' } : null;
    return hello === 'truncated' ? undefined : null;
  }
}

/** An opener's first bytes `data[start, end)`: the name of a TLS ClientHello or an HTTP request; undefined: more needed; null: none. */
function readOpener(data: Uint8Array, start: number, end: number): RemoteName | undefined | null {
  const hello = decodeClientHello(data, start, end);
  if (typeof hello !== 'string')
    return hello.serverName ? { name: hello.serverName, source: 'tls-sni' } : null;
  if (hello === 'truncated') return undefined;
  const http = decodeHttpHost(data, start, end);
  if (typeof http !== 'string') return { name: http.host, source: 'http-host' };
  return http === 'truncated' ? undefined : null;
}

/** A DNS header (RFC 1035 section 4.1.1) of a response (QR), without error (RCODE 0), with a question and an answer. */
function answersSomething(data: Uint8Array, at: number, end: number): boolean {
  if (end - at < 12) return false;
  return (
    (data[at + 2]! & 0x80) !== 0 &&
    (data[at + 3]! & 0x0f) === 0 &&
    (data[at + 4]! | data[at + 5]!) !== 0 &&
    (data[at + 6]! | data[at + 7]!) !== 0
  );
}

/** The remote address of a decoded packet's flow as text, for nameOf (the destination of an outgoing packet). */
export function remoteAddressOf(p: DecodedPacket, outgoing: boolean): string {
  return addressText(p.data, outgoing ? p.dstAddrOffset : p.srcAddrOffset, p.ipVersion as 4 | 6);
}

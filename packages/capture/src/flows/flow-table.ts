import { EventEmitter } from 'node:events';
import { IpProtocol } from '../decode/link-types';
import type { DecodedPacket } from '../decode/packet';
import { CaptureError } from '../errors';
import { type Flow, type FlowEndReason, TcpFlag, TcpSeen } from './flow';
import { FlowIndex } from './flow-index';
import { hashKey, KEY_WORDS, writeFlowKey } from './flow-key';
import {
  BOTH_LOCAL,
  BYTES_IN,
  BYTES_OUT,
  FIRST_SEEN,
  GENERATION,
  HASH,
  IN_USE,
  LAST_SEEN,
  LOCAL_KNOWN,
  LOCAL_SIDE,
  NEWER,
  NONE,
  NUMBERS_PER_SLOT,
  OLDER,
  PACKETS_IN,
  PACKETS_OUT,
  readFlow,
  SYN_SEEN,
  SYN_SEQ,
  TCP,
  WORDS_PER_SLOT,
} from './flow-slots';
import { LocalAddresses } from './local-addresses';

export interface FlowTableOptions {
  /** Most flows kept at once (default 65,536). A new flow beyond it evicts the least recently seen. */
  maxFlows?: number;
  /** A flow with no packet for this long ends as `idle` (default 120,000 ms). */
  idleTimeoutMs?: number;
  /** A TCP flow closed by FIN from both sides or RST ends as `closed` this long after its last packet (default 5,000 ms). */
  closedTimeoutMs?: number;
  /** This machine's addresses, to tell local from remote (default: every address of every interface). */
  localAddresses?: Iterable<string>;
}

export interface FlowTableStats {
  /** Flows in the table now. */
  flows: number;
  created: number;
  /** Flows pushed out because the table was full. */
  evicted: number;
  /** Flows ended by idleness or closing. */
  expired: number;
  /** Packets counted into flows. */
  packets: number;
  /** Packets that belong to no flow: not IP, or decoded too little to know their ports. */
  skipped: number;
  /** Of those, IP fragments after the first (they carry no ports). */
  fragments: number;
}

interface FlowTableEvents {
  /** A flow was seen for the first time (its first packet is already counted). */
  flow: [flow: Flow];
  /** A flow left the table; `flow` holds its final counts. */
  end: [flow: Flow, reason: FlowEndReason];
}

/**
 * Flows keyed by 5-tuple, in one typed-array record per slot: a packet costs a key built in a
 * scratch array, one hash probe and a few numeric updates, with no allocation. Bounded: at most
 * `maxFlows` flows, the least recently seen evicted first (an LRU list threaded through the slots),
 * idle and closed flows expired as packet time moves on.
 */
export class FlowTable extends EventEmitter<FlowTableEvents> {
  readonly maxFlows: number;
  /** Whether the packet add() counted last went from the flow's local side (its sender is `local`). */
  lastOutgoing = false;
  /** After add: the packets the flow's local end has sent so far, this one included (what tells a flow's first packets). */
  lastSent = 0;
  readonly idleTimeoutMs: number;
  readonly closedTimeoutMs: number;
  private readonly local: LocalAddresses;

  /** The slots' records: three views of one buffer. */
  private readonly words: Uint32Array;
  private readonly ints: Int32Array;
  private readonly numbers: Float64Array;
  private newest = NONE;
  private oldest = NONE;
  private readonly free: Int32Array;
  private freeCount: number;

  private readonly index: FlowIndex;

  private readonly key = new Uint32Array(KEY_WORDS);
  private lastExpiry = 0;
  private readonly counters: FlowTableStats = {
    flows: 0,
    created: 0,
    evicted: 0,
    expired: 0,
    packets: 0,
    skipped: 0,
    fragments: 0,
  };

  constructor(options: FlowTableOptions = {}) {
    super();
    this.maxFlows = options.maxFlows ?? 65536;
    if (!Number.isInteger(this.maxFlows) || this.maxFlows < 1 || this.maxFlows > 2 ** 24) {
      throw new CaptureError('E_INVALID_ARGUMENT', `maxFlows must be an integer from 1 to ${2 ** 24}`);
    }
    this.idleTimeoutMs = options.idleTimeoutMs ?? 120_000;
    this.closedTimeoutMs = Math.min(options.closedTimeoutMs ?? 5_000, this.idleTimeoutMs);
    this.local = new LocalAddresses(options.localAddresses);
    const n = this.maxFlows;
    const records = new ArrayBuffer(n * WORDS_PER_SLOT * 4);
    this.words = new Uint32Array(records);
    this.ints = new Int32Array(records);
    this.numbers = new Float64Array(records);
    // Lowest slots first, so the records in use stay together (and untouched pages unallocated).
    this.free = new Int32Array(n);
    for (let i = 0; i < n; i++) this.free[i] = n - 1 - i;
    this.freeCount = n;
    this.index = new FlowIndex(this.words, this.ints, n);
  }

  get size(): number {
    return this.counters.flows;
  }

  stats(): FlowTableStats {
    return { ...this.counters };
  }

  /**
   * Counts a decoded packet of `length` bytes seen at `timeMs` into its flow, creating the flow
   * (and emitting `flow`) if it is new. Returns the flow's id, or -1 for a packet of no flow.
   */
  add(p: DecodedPacket, timeMs: number, length: number): number {
    if (p.ipVersion === 0 || p.transportOffset < 0) {
      this.counters.skipped++;
      if (p.fragment && p.fragmentOffset !== 0) this.counters.fragments++;
      return -1;
    }
    const protocol = p.protocol;
    if (timeMs - this.lastExpiry >= 1000) this.expire(timeMs);
    const key = this.key;
    const sourceSide = writeFlowKey(p, key);
    const hash = hashKey(key);
    let slot = this.index.find(hash, key);
    if (slot !== NONE && protocol === IpProtocol.TCP && this.reopens(slot, p.tcpFlags)) {
      // A new connection on the 5-tuple of one that closed: a flow of its own (its program may differ).
      this.remove(slot, 'closed');
      slot = NONE;
    }
    const isNew = slot === NONE;
    if (isNew) slot = this.insert(hash, p, sourceSide, timeMs);
    else this.touch(slot);

    this.counters.packets++;
    const numbers = this.numbers;
    const at = slot * NUMBERS_PER_SLOT;
    numbers[at + LAST_SEEN] = timeMs;
    const outgoing = sourceSide === (this.words[slot * WORDS_PER_SLOT + LOCAL_SIDE]! & 1);
    this.lastOutgoing = outgoing;
    if (outgoing) {
      numbers[at + BYTES_OUT]! += length;
      this.lastSent = ++numbers[at + PACKETS_OUT]!;
    } else {
      numbers[at + BYTES_IN]! += length;
      numbers[at + PACKETS_IN]!++;
      this.lastSent = numbers[at + PACKETS_OUT]!;
    }
    if (protocol === IpProtocol.TCP) this.trackTcp(slot, p.tcpFlags, outgoing);
    if (isNew && this.listenerCount('flow') > 0) this.emit('flow', this.snapshot(slot));
    return this.idOf(slot);
  }

  /** Ends flows idle for longer than their timeout at `nowMs`; returns how many ended. */
  expire(nowMs: number): number {
    this.lastExpiry = nowMs;
    let ended = 0;
    // The LRU list is ordered by last packet: only its old end can hold expired flows.
    for (let slot = this.oldest; slot !== NONE; ) {
      const idle = nowMs - this.numbers[slot * NUMBERS_PER_SLOT + LAST_SEEN]!;
      if (idle < this.closedTimeoutMs) break;
      const next = this.ints[slot * WORDS_PER_SLOT + NEWER]!;
      const tcp = this.words[slot * WORDS_PER_SLOT + TCP]!;
      const closed = (tcp & TcpSeen.RST) !== 0 || (tcp & 12) === 12;
      if (idle >= this.idleTimeoutMs || closed) {
        this.remove(slot, closed ? 'closed' : 'idle');
        this.counters.expired++;
        ended++;
      }
      slot = next;
    }
    return ended;
  }

  /** The flow with this id, if it is still in the table. */
  get(id: number): Flow | undefined {
    const slot = id % this.maxFlows;
    if (slot < 0 || !Number.isInteger(id) || this.idOf(slot) !== id || !this.inUse(slot)) return undefined;
    return this.snapshot(slot);
  }

  /** Every flow, most recently seen first (snapshots: they do not change as packets arrive). */
  flows(): Flow[] {
    const out: Flow[] = [];
    for (let slot = this.newest; slot !== NONE; slot = this.ints[slot * WORDS_PER_SLOT + OLDER]!) {
      out.push(this.snapshot(slot));
    }
    return out;
  }

  /** Ends every flow (emitting `end` with reason `idle`) and empties the table. */
  clear(): void {
    while (this.oldest !== NONE) this.remove(this.oldest, 'idle');
  }

  private inUse(slot: number): boolean {
    return (this.words[slot * WORDS_PER_SLOT + LOCAL_SIDE]! & IN_USE) !== 0;
  }

  private idOf(slot: number): number {
    return this.words[slot * WORDS_PER_SLOT + GENERATION]! * this.maxFlows + slot;
  }

  private insert(hash: number, p: DecodedPacket, sourceSide: 0 | 1, timeMs: number): number {
    if (this.freeCount === 0) {
      this.remove(this.oldest, 'evicted');
      this.counters.evicted++;
    }
    const slot = this.free[--this.freeCount]!;
    const base = slot * WORDS_PER_SLOT;
    const words = this.words;
    words.set(this.key, base);
    this.ints[base + HASH] = hash;
    words[base + GENERATION]!++;
    this.index.add(slot, hash, this.counters.flows + 1);

    words[base + LOCAL_SIDE] = this.decideLocalSide(p, sourceSide) | IN_USE;
    words[base + TCP] = 0;
    const at = slot * NUMBERS_PER_SLOT;
    const numbers = this.numbers;
    numbers[at + BYTES_OUT] = 0;
    numbers[at + BYTES_IN] = 0;
    numbers[at + PACKETS_OUT] = 0;
    numbers[at + PACKETS_IN] = 0;
    numbers[at + FIRST_SEEN] = timeMs;
    const opens = p.protocol === IpProtocol.TCP && (p.tcpFlags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN;
    words[base + SYN_SEQ] = opens ? p.seq : 0;
    words[base + SYN_SEEN] = opens ? 1 | (sourceSide << 1) : 0;
    // Link at the newest end.
    const ints = this.ints;
    ints[base + OLDER] = this.newest;
    ints[base + NEWER] = NONE;
    if (this.newest !== NONE) ints[this.newest * WORDS_PER_SLOT + NEWER] = slot;
    this.newest = slot;
    if (this.oldest === NONE) this.oldest = slot;
    this.counters.flows++;
    this.counters.created++;
    return slot;
  }

  /** Which key endpoint is local (bit 0), and whether the addresses told (bit 2). */
  private decideLocalSide(p: DecodedPacket, sourceSide: 0 | 1): number {
    const version = p.ipVersion as 4 | 6;
    const sourceLocal = this.local.has(p.data, p.srcAddrOffset, version);
    const destinationLocal = this.local.has(p.data, p.dstAddrOffset, version);
    const destinationSide = (1 - sourceSide) as 0 | 1;
    if (sourceLocal !== destinationLocal) return (sourceLocal ? sourceSide : destinationSide) | LOCAL_KNOWN;
    // Both or neither ours: local is the side that opened the flow. A SYN-ACK comes from the other.
    const synAck = p.protocol === IpProtocol.TCP && (p.tcpFlags & (TcpFlag.SYN | TcpFlag.ACK)) === 0x12;
    return (synAck ? destinationSide : sourceSide) | (sourceLocal ? BOTH_LOCAL : 0);
  }

  /** A SYN (without ACK) on a flow that saw a FIN or RST: the 5-tuple was reused by a new connection. */
  private reopens(slot: number, flags: number): boolean {
    if ((flags & (TcpFlag.SYN | TcpFlag.ACK)) !== TcpFlag.SYN) return false;
    return (
      (this.words[slot * WORDS_PER_SLOT + TCP]! & (TcpSeen.FIN_LOCAL | TcpSeen.FIN_REMOTE | TcpSeen.RST)) !==
      0
    );
  }

  private trackTcp(slot: number, flags: number, outgoing: boolean): void {
    const at = slot * WORDS_PER_SLOT + TCP;
    let seen = this.words[at]!;
    if (flags & TcpFlag.SYN) seen |= flags & TcpFlag.ACK ? TcpSeen.SYN_ACK : TcpSeen.SYN;
    if (flags & TcpFlag.FIN) seen |= outgoing ? TcpSeen.FIN_LOCAL : TcpSeen.FIN_REMOTE;
    if (flags & TcpFlag.RST) seen |= TcpSeen.RST;
    this.words[at] = seen;
  }

  /** Moves `slot` to the newest end of the LRU list. */
  private touch(slot: number): void {
    if (this.newest === slot) return;
    const ints = this.ints;
    const base = slot * WORDS_PER_SLOT;
    const newer = ints[base + NEWER]!;
    const older = ints[base + OLDER]!;
    ints[newer * WORDS_PER_SLOT + OLDER] = older;
    if (older !== NONE) ints[older * WORDS_PER_SLOT + NEWER] = newer;
    else this.oldest = newer;
    ints[base + OLDER] = this.newest;
    ints[base + NEWER] = NONE;
    ints[this.newest * WORDS_PER_SLOT + NEWER] = slot;
    this.newest = slot;
  }

  private remove(slot: number, reason: FlowEndReason): void {
    const flow = this.listenerCount('end') > 0 ? this.snapshot(slot) : undefined;
    // Unlink from the LRU list.
    const ints = this.ints;
    const base = slot * WORDS_PER_SLOT;
    const newer = ints[base + NEWER]!;
    const older = ints[base + OLDER]!;
    if (newer !== NONE) ints[newer * WORDS_PER_SLOT + OLDER] = older;
    else this.newest = older;
    if (older !== NONE) ints[older * WORDS_PER_SLOT + NEWER] = newer;
    else this.oldest = newer;
    ints[base + NEWER] = NONE;
    ints[base + OLDER] = NONE;
    this.words[base + LOCAL_SIDE] = 0;
    this.index.remove(slot);
    this.free[this.freeCount++] = slot;
    this.counters.flows--;
    if (flow) this.emit('end', flow, reason);
  }

  private snapshot(slot: number): Flow {
    return readFlow(this.words, this.numbers, slot, this.idOf(slot));
  }
}

import { EventEmitter } from 'node:events';
import { addressText } from '../decode/address';
import { IpProtocol } from '../decode/link-types';
import type { DecodedPacket } from '../decode/packet';
import { CaptureError } from '../errors';
import { type Flow, type FlowEndReason, TcpFlag, TcpSeen } from './flow';
import { hashKey, KEY_WORDS, writeFlowKey } from './flow-key';
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

const NONE = -1;

/**
 * Flows keyed by 5-tuple, in typed arrays: a packet costs a key built in a scratch array, one hash
 * probe and a few numeric updates, with no allocation. Bounded: at most `maxFlows` flows, the least
 * recently seen evicted first (an LRU list threaded through the slots), idle and closed flows
 * expired as packet time moves on.
 */
export class FlowTable extends EventEmitter<FlowTableEvents> {
  readonly maxFlows: number;
  readonly idleTimeoutMs: number;
  readonly closedTimeoutMs: number;
  private readonly local: LocalAddresses;

  // Per slot.
  private readonly keys: Uint32Array;
  private readonly hashes: Uint32Array;
  private readonly generation: Uint32Array;
  /** Which endpoint of the key (0 = A, 1 = B) is local; bit 2 set when the machine's addresses told. */
  private readonly localSide: Uint8Array;
  private readonly tcp: Uint8Array;
  private readonly bytesOut: Float64Array;
  private readonly bytesIn: Float64Array;
  private readonly packetsOut: Float64Array;
  private readonly packetsIn: Float64Array;
  private readonly firstSeen: Float64Array;
  private readonly lastSeen: Float64Array;
  private readonly newer: Int32Array;
  private readonly older: Int32Array;
  private newest = NONE;
  private oldest = NONE;
  private readonly free: Int32Array;
  private freeCount: number;

  // Open-addressing index: slot + 1 per bucket, 0 when empty; linear probing, backward-shift deletion.
  private readonly index: Int32Array;
  private readonly mask: number;

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
    this.keys = new Uint32Array(n * KEY_WORDS);
    this.hashes = new Uint32Array(n);
    this.generation = new Uint32Array(n);
    this.localSide = new Uint8Array(n);
    this.tcp = new Uint8Array(n);
    this.bytesOut = new Float64Array(n);
    this.bytesIn = new Float64Array(n);
    this.packetsOut = new Float64Array(n);
    this.packetsIn = new Float64Array(n);
    this.firstSeen = new Float64Array(n);
    this.lastSeen = new Float64Array(n);
    this.newer = new Int32Array(n);
    this.older = new Int32Array(n);
    this.newer.fill(NONE);
    this.older.fill(NONE);
    this.free = new Int32Array(n);
    for (let i = 0; i < n; i++) this.free[i] = n - 1 - i;
    this.freeCount = n;
    let buckets = 2;
    while (buckets < n * 2) buckets *= 2;
    this.index = new Int32Array(buckets);
    this.mask = buckets - 1;
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
    let slot = this.find(hash);
    const isNew = slot === NONE;
    if (isNew) slot = this.insert(hash, p, sourceSide, timeMs);
    else this.touch(slot);

    this.counters.packets++;
    this.lastSeen[slot] = timeMs;
    const outgoing = sourceSide === (this.localSide[slot]! & 1);
    if (outgoing) {
      this.bytesOut[slot]! += length;
      this.packetsOut[slot]!++;
    } else {
      this.bytesIn[slot]! += length;
      this.packetsIn[slot]!++;
    }
    if (protocol === IpProtocol.TCP) this.trackTcp(slot, p.tcpFlags, outgoing);
    if (isNew) this.emit('flow', this.snapshot(slot));
    return this.idOf(slot);
  }

  /** Ends flows idle for longer than their timeout at `nowMs`; returns how many ended. */
  expire(nowMs: number): number {
    this.lastExpiry = nowMs;
    let ended = 0;
    // The LRU list is ordered by last packet: only its old end can hold expired flows.
    for (let slot = this.oldest; slot !== NONE; ) {
      const idle = nowMs - this.lastSeen[slot]!;
      if (idle < this.closedTimeoutMs) break;
      const next = this.newer[slot]!;
      const closed = (this.tcp[slot]! & TcpSeen.RST) !== 0 || (this.tcp[slot]! & 12) === 12;
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
    for (let slot = this.newest; slot !== NONE; slot = this.older[slot]!) out.push(this.snapshot(slot));
    return out;
  }

  /** Ends every flow (emitting `end` with reason `idle`) and empties the table. */
  clear(): void {
    while (this.oldest !== NONE) this.remove(this.oldest, 'idle');
  }

  private inUse(slot: number): boolean {
    return this.newer[slot] !== NONE || this.newest === slot;
  }

  private idOf(slot: number): number {
    return this.generation[slot]! * this.maxFlows + slot;
  }

  private find(hash: number): number {
    const keys = this.keys;
    const key = this.key;
    for (let b = hash & this.mask; ; b = (b + 1) & this.mask) {
      const entry = this.index[b]!;
      if (entry === 0) return NONE;
      const slot = entry - 1;
      if (this.hashes[slot] !== hash) continue;
      const base = slot * KEY_WORDS;
      let same = true;
      for (let w = 0; w < KEY_WORDS; w++) {
        if (keys[base + w] !== key[w]) {
          same = false;
          break;
        }
      }
      if (same) return slot;
    }
  }

  private insert(hash: number, p: DecodedPacket, sourceSide: 0 | 1, timeMs: number): number {
    if (this.freeCount === 0) {
      this.remove(this.oldest, 'evicted');
      this.counters.evicted++;
    }
    const slot = this.free[--this.freeCount]!;
    this.keys.set(this.key, slot * KEY_WORDS);
    this.hashes[slot] = hash;
    this.generation[slot]!++;
    let b = hash & this.mask;
    while (this.index[b] !== 0) b = (b + 1) & this.mask;
    this.index[b] = slot + 1;

    this.localSide[slot] = this.decideLocalSide(p, sourceSide);
    this.tcp[slot] = 0;
    this.bytesOut[slot] = 0;
    this.bytesIn[slot] = 0;
    this.packetsOut[slot] = 0;
    this.packetsIn[slot] = 0;
    this.firstSeen[slot] = timeMs;
    // Link at the newest end.
    this.older[slot] = this.newest;
    this.newer[slot] = NONE;
    if (this.newest !== NONE) this.newer[this.newest] = slot;
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
    if (sourceLocal !== destinationLocal) return (sourceLocal ? sourceSide : destinationSide) | 4;
    // Both or neither ours: local is the side that opened the flow. A SYN-ACK comes from the other.
    const synAck = p.protocol === IpProtocol.TCP && (p.tcpFlags & (TcpFlag.SYN | TcpFlag.ACK)) === 0x12;
    return synAck ? destinationSide : sourceSide;
  }

  private trackTcp(slot: number, flags: number, outgoing: boolean): void {
    let seen = this.tcp[slot]!;
    if (flags & TcpFlag.SYN) seen |= flags & TcpFlag.ACK ? TcpSeen.SYN_ACK : TcpSeen.SYN;
    if (flags & TcpFlag.FIN) seen |= outgoing ? TcpSeen.FIN_LOCAL : TcpSeen.FIN_REMOTE;
    if (flags & TcpFlag.RST) seen |= TcpSeen.RST;
    this.tcp[slot] = seen;
  }

  /** Moves `slot` to the newest end of the LRU list. */
  private touch(slot: number): void {
    if (this.newest === slot) return;
    const newer = this.newer[slot]!;
    const older = this.older[slot]!;
    this.older[newer] = older;
    if (older !== NONE) this.newer[older] = newer;
    else this.oldest = newer;
    this.older[slot] = this.newest;
    this.newer[slot] = NONE;
    this.newer[this.newest] = slot;
    this.newest = slot;
  }

  private remove(slot: number, reason: FlowEndReason): void {
    const flow = this.listenerCount('end') > 0 ? this.snapshot(slot) : undefined;
    // Unlink from the LRU list.
    const newer = this.newer[slot]!;
    const older = this.older[slot]!;
    if (newer !== NONE) this.older[newer] = older;
    else this.newest = older;
    if (older !== NONE) this.newer[older] = newer;
    else this.oldest = newer;
    this.newer[slot] = NONE;
    this.older[slot] = NONE;
    this.unindex(slot);
    this.free[this.freeCount++] = slot;
    this.counters.flows--;
    if (flow) this.emit('end', flow, reason);
  }

  /** Removes `slot` from the index, shifting later entries of its probe run back (no tombstones). */
  private unindex(slot: number): void {
    const index = this.index;
    const mask = this.mask;
    let hole = this.hashes[slot]! & mask;
    while (index[hole] !== slot + 1) hole = (hole + 1) & mask;
    for (let b = (hole + 1) & mask; index[b] !== 0; b = (b + 1) & mask) {
      const home = this.hashes[index[b]! - 1]! & mask;
      // The entry at b may fill the hole unless its home lies cyclically in (hole, b].
      const stays = hole <= b ? home > hole && home <= b : home > hole || home <= b;
      if (!stays) {
        index[hole] = index[b]!;
        hole = b;
      }
    }
    index[hole] = 0;
  }

  private snapshot(slot: number): Flow {
    const base = slot * KEY_WORDS;
    const keys = this.keys;
    const version = (keys[base]! >> 8) as 4 | 6;
    const side = this.localSide[slot]! & 1;
    const endpoint = (which: number) => {
      const bytes = new Uint8Array(16);
      const view = new DataView(bytes.buffer);
      for (let w = 0; w < 4; w++) view.setUint32(4 * w, keys[base + 2 + 4 * which + w]!);
      const ports = keys[base + 1]!;
      return { address: addressText(bytes, 0, version), port: which === 0 ? ports >>> 16 : ports & 0xffff };
    };
    return {
      id: this.idOf(slot),
      ipVersion: version,
      protocol: keys[base]! & 0xff,
      local: endpoint(side),
      remote: endpoint(1 - side),
      localKnown: (this.localSide[slot]! & 4) !== 0,
      bytesOut: this.bytesOut[slot]!,
      bytesIn: this.bytesIn[slot]!,
      packetsOut: this.packetsOut[slot]!,
      packetsIn: this.packetsIn[slot]!,
      firstSeen: this.firstSeen[slot]!,
      lastSeen: this.lastSeen[slot]!,
      tcp: this.tcp[slot]!,
    };
  }
}

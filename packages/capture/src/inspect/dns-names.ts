import { type DnsMessage, DnsType } from './dns';

export interface DnsNamesOptions {
  /** Addresses remembered at most; past it the least recently answered is forgotten. Default 16,384. */
  maxEntries?: number;
  /** Longest an answer is kept, whatever its TTL says (ms). Default 1 hour. */
  maxTtlMs?: number;
  /** Shortest an answer is kept, for TTLs of 0 (a program connects right after its lookup). Default 10 s. */
  minTtlMs?: number;
}

export interface DnsNamesStats {
  /** Responses learnt from, addresses remembered now, and addresses forgotten because the cache was full. */
  answers: number;
  entries: number;
  evicted: number;
}

interface Entry {
  name: string;
  expires: number;
}

/**
 * Which name this machine asked for to get an address, from the DNS answers it saw: for a
 * response, each A/AAAA address maps to the name in the question, following CNAME chains (a program
 * that asked for www.example.com and got a CDN's name, then an address, asked for www.example.com).
 * TTL-aware (an answer is forgotten when its TTL, bounded by the options, has passed) and bounded
 * (the least recently answered address goes first). When several names share an address, the
 * latest answer wins.
 */
export class DnsNames {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly maxTtlMs: number;
  private readonly minTtlMs: number;
  private answers = 0;
  private evicted = 0;

  constructor(options: DnsNamesOptions = {}) {
    this.maxEntries = options.maxEntries ?? 16_384;
    this.maxTtlMs = options.maxTtlMs ?? 3_600_000;
    this.minTtlMs = options.minTtlMs ?? 10_000;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Learns from a decoded message (queries and failed responses teach nothing). */
  observe(message: DnsMessage, nowMs: number): void {
    if (!message.response || message.rcode !== 0 || message.questions.length === 0) return;
    const asked = message.questions[0]!.name;
    this.answers++;
    // Which question name each name in the answer stands for: the question itself, and every name
    // a CNAME chain from it reaches (in answer order, as servers send them; bounded by the answers).
    const origin = new Map<string, string>([[asked, asked]]);
    for (let pass = 0; pass < 2; pass++) {
      for (const a of message.answers) {
        if (a.type === DnsType.CNAME && a.target && origin.has(a.name))
          origin.set(a.target, origin.get(a.name)!);
      }
    }
    for (const a of message.answers) {
      if ((a.type !== DnsType.A && a.type !== DnsType.AAAA) || !a.address) continue;
      const name = origin.get(a.name);
      if (!name) continue; // an answer for a name the question does not lead to: not trusted
      const ttl = Math.min(this.maxTtlMs, Math.max(this.minTtlMs, a.ttl * 1000));
      this.entries.delete(a.address);
      this.entries.set(a.address, { name, expires: nowMs + ttl });
      if (this.entries.size > this.maxEntries) {
        this.entries.delete(this.entries.keys().next().value as string);
        this.evicted++;
      }
    }
  }

  stats(): DnsNamesStats {
    return { answers: this.answers, entries: this.entries.size, evicted: this.evicted };
  }

  /** The name asked for that gave `address`, while its answer is still valid. */
  nameOf(address: string, nowMs: number): string | undefined {
    const entry = this.entries.get(address);
    if (!entry) return undefined;
    if (entry.expires <= nowMs) {
      this.entries.delete(address);
      return undefined;
    }
    return entry.name;
  }
}

import type { BlocklistFiles } from './blocklist';
import type { Alert, AlertProcess, AlertRule, AlertSnapshot, Direction } from './types';
import { formatBytes, formatDuration } from './units';

export interface AlertEngineOptions {
  /** Programs known from before (e.g. in the history store), by key (`programKey`): not new. */
  known?: Iterable<string>;
  /** The same rule fires again for the same program (and address) at most this often (default 5 min). */
  everyMs?: number;
  /** Alerts given per minute at most, all rules together; the rest are counted as suppressed (default 60). */
  maxPerMinute?: number;
  /** Programs followed at most (windows, countries, ASes); the least recently active is forgotten (default 2,000). */
  maxPrograms?: number;
  /** Programs remembered as seen at most, for new-program (default 100,000). */
  maxKnown?: number;
  /** Countries or ASes remembered per program at most (default 256). */
  maxPlacesPerProgram?: number;
  /** The blocklists of `blocklist` rules, by rule id. */
  blocklists?: Map<string, BlocklistFiles>;
  /**
   * Without `known`: programs first seen this soon after the first snapshot are the baseline, not
   * new (default 3 s: a program's first bytes may be counted before its label comes).
   */
  warmupMs?: number;
}

export interface AlertEngineStats {
  /** Alerts given, and those held back by the per-minute cap. */
  fired: number;
  suppressed: number;
  /** Programs followed now, and forgotten for room. */
  programs: number;
  programsForgotten: number;
}

/** What the engine keeps per program (bounded). */
interface ProgramState {
  /** [at, cumulative in, cumulative out] samples within the longest volume window, oldest first. */
  samples: number[];
  countries: Set<string | number>;
  ases: Set<string | number>;
}

/** A program's key: its executable path, else its name (as @netwho/monitor's `by: 'program'`). */
export function programKey(p: { name: string; path: string }): string {
  return p.path ? `path:${p.path}` : `name:${p.name}`;
}

/**
 * Turns snapshots into alerts by the rules; pure logic (the blocklist files aside), so it is
 * tested with plain snapshots. Each snapshot's programs are summed per program (all its processes),
 * as people think of them. Every table is bounded and every alert rate-limited.
 */
export class AlertEngine {
  private readonly rules: AlertRule[];
  private readonly everyMs: number;
  private readonly maxPerMinute: number;
  private readonly maxPrograms: number;
  private readonly maxKnown: number;
  private readonly maxPlaces: number;
  private readonly known = new Set<string>();
  private readonly state = new Map<string, ProgramState>();
  private readonly lastFired = new Map<string, number>();
  private readonly blocklists: Map<string, BlocklistFiles>;
  private readonly longestWindow: number;
  private minute = { start: 0, count: 0 };
  private readonly counts = { fired: 0, suppressed: 0, programsForgotten: 0 };
  private first = true;
  private startedAt: number | undefined;
  private readonly warmupMs: number;

  constructor(rules: AlertRule[], options: AlertEngineOptions = {}) {
    this.rules = rules;
    this.everyMs = options.everyMs ?? 300_000;
    this.maxPerMinute = options.maxPerMinute ?? 60;
    this.maxPrograms = options.maxPrograms ?? 2000;
    this.maxKnown = options.maxKnown ?? 100_000;
    this.maxPlaces = options.maxPlacesPerProgram ?? 256;
    this.blocklists = options.blocklists ?? new Map();
    for (const key of options.known ?? []) this.remember(key);
    // With a history of known programs, even the first snapshot's programs can be new.
    if (options.known) this.first = false;
    this.warmupMs = options.known ? 0 : (options.warmupMs ?? 3000);
    this.longestWindow = Math.max(0, ...rules.map((r) => (r.kind === 'volume' ? r.windowMs : 0)));
  }

  /** The alerts this snapshot raises, in rule order. */
  observe(s: AlertSnapshot): Alert[] {
    const out: Alert[] = [];
    this.startedAt ??= s.at;
    const totals = sumPerProgram(s);
    for (const [key, t] of totals) {
      const st = this.stateOf(key);
      if (this.longestWindow > 0) {
        st.samples.push(s.at, t.bytesIn, t.bytesOut);
        while (st.samples.length > 3 && st.samples[0]! < s.at - this.longestWindow) st.samples.splice(0, 3);
        if (st.samples.length > 3 * 7200) st.samples.splice(0, 3); // at most two hours of 1 s ticks
      }
    }
    for (const rule of this.rules) {
      switch (rule.kind) {
        case 'rate':
          for (const [key, t] of totals) {
            if (!matches(rule.program, t.process)) continue;
            const rate = pick(rule.direction, t.rateIn, t.rateOut);
            if (rate > rule.above)
              this.fire(
                out,
                rule,
                key,
                t.process,
                s.at,
                `${t.process.name} moved ${formatBytes(rate)}/s${dir(rule.direction)} (above ${formatBytes(rule.above)}/s)`,
                { rate: Math.round(rate), threshold: rule.above },
              );
          }
          break;
        case 'volume':
          for (const [key, t] of totals) {
            if (!matches(rule.program, t.process)) continue;
            const st = this.state.get(key)!.samples;
            // The oldest sample within this rule's window (the state keeps the longest window).
            let i = 0;
            while (i + 3 < st.length && st[i]! < s.at - rule.windowMs) i += 3;
            const bytes = pick(rule.direction, t.bytesIn - st[i + 1]!, t.bytesOut - st[i + 2]!);
            if (bytes > rule.above)
              this.fire(
                out,
                rule,
                key,
                t.process,
                s.at,
                `${t.process.name} moved ${formatBytes(bytes)}${dir(rule.direction)} in ${formatDuration(rule.windowMs)} (above ${formatBytes(rule.above)})`,
                { bytes, threshold: rule.above, windowMs: rule.windowMs },
              );
          }
          break;
        case 'new-program':
          // The programs running at the start are the baseline.
          if (this.first || s.at - (this.startedAt ?? s.at) < this.warmupMs) break;
          for (const [key, t] of totals)
            if (!this.known.has(key))
              this.fire(
                out,
                rule,
                key,
                t.process,
                s.at,
                `${t.process.name} used the network for the first time`,
                {},
                undefined,
                true,
              );
          break;
        case 'new-country':
        case 'new-as':
        case 'blocklist':
          this.connectionRule(out, rule, s);
          break;
      }
    }
    for (const key of totals.keys()) this.remember(key);
    this.first = false;
    return out;
  }

  stats(): AlertEngineStats {
    return { ...this.counts, programs: this.state.size };
  }

  private connectionRule(
    out: Alert[],
    rule: AlertRule & { kind: 'new-country' | 'new-as' | 'blocklist' },
    s: AlertSnapshot,
  ): void {
    for (const c of s.connections) {
      const p = c.label.status === 'known' ? c.label.process : undefined;
      if (!p) continue;
      const key = programKey(p);
      const remote = {
        address: c.remote.address,
        ...(c.remoteName && { name: c.remoteName }),
        ...(c.country && { country: c.country }),
        ...(c.asn !== undefined && { asn: c.asn }),
        ...(c.asOrg && { asOrg: c.asOrg }),
      };
      const where = c.remoteName ?? c.remote.address;
      if (rule.kind === 'blocklist') {
        if (this.blocklists.get(rule.id)?.has(c.remote.address, s.at))
          this.fire(
            out,
            rule,
            `${key} ${c.remote.address}`,
            p,
            s.at,
            `${p.name} talked to ${where}, which is in a blocklist`,
            { port: c.remote.port },
            remote,
          );
        continue;
      }
      if (!matches(rule.program, p)) continue;
      const country = rule.kind === 'new-country';
      const place = country ? c.country : c.asn;
      if (place === undefined || place === '') continue;
      const st = this.stateOf(key);
      const seen: Set<string | number> = country ? st.countries : st.ases;
      if (seen.has(place)) continue;
      // A program's first country or network is its baseline, not news.
      const first = seen.size === 0;
      if (seen.size < this.maxPlaces) seen.add(place);
      if (first) continue;
      const what = country
        ? `a new country: ${place}`
        : `a new network: AS${place}${c.asOrg ? ` ${c.asOrg}` : ''}`;
      this.fire(
        out,
        rule,
        `${key} ${place}`,
        p,
        s.at,
        `${p.name} talked to ${where} in ${what}`,
        country ? { countries: seen.size } : { asn: place as number, networks: seen.size },
        remote,
        true,
      );
    }
  }

  /** Adds an alert unless the same rule fired for `key` within everyMs (`once`: never again) or the minute's cap is reached. */
  private fire(
    out: Alert[],
    rule: AlertRule,
    key: string,
    p: AlertProcess,
    at: number,
    message: string,
    figures: Record<string, number>,
    remote?: Alert['remote'],
    once = false,
  ): void {
    const limitKey = `${rule.id}\u0000${key}`;
    const last = this.lastFired.get(limitKey);
    if (last !== undefined && (once || at - last < this.everyMs)) return;
    if (at - this.minute.start >= 60_000) this.minute = { start: at, count: 0 };
    this.lastFired.delete(limitKey);
    this.lastFired.set(limitKey, at);
    if (this.lastFired.size > this.maxKnown)
      this.lastFired.delete(this.lastFired.keys().next().value as string);
    if (this.minute.count >= this.maxPerMinute) {
      this.counts.suppressed++;
      return;
    }
    this.minute.count++;
    this.counts.fired++;
    out.push({
      at,
      rule: { id: rule.id, kind: rule.kind },
      program: { name: p.name, path: p.path, ...(p.pid > 0 && { pid: p.pid }) },
      message,
      figures,
      ...(remote && { remote }),
    });
  }

  private stateOf(key: string): ProgramState {
    let st = this.state.get(key);
    if (st) {
      this.state.delete(key);
      this.state.set(key, st);
      return st;
    }
    st = { samples: [], countries: new Set(), ases: new Set() };
    this.state.set(key, st);
    if (this.state.size > this.maxPrograms) {
      this.state.delete(this.state.keys().next().value as string);
      this.counts.programsForgotten++;
    }
    return st;
  }

  private remember(key: string): void {
    if (this.known.has(key)) return;
    this.known.add(key);
    if (this.known.size > this.maxKnown) this.known.delete(this.known.values().next().value as string);
  }
}

interface Totals {
  process: AlertProcess;
  bytesIn: number;
  bytesOut: number;
  rateIn: number;
  rateOut: number;
}

/** The snapshot's process rows summed per program; a lone process keeps its pid. */
function sumPerProgram(s: AlertSnapshot): Map<string, Totals> {
  const out = new Map<string, Totals>();
  for (const row of s.programs) {
    if (!row.process) continue;
    const key = programKey(row.process);
    const t = out.get(key);
    if (!t)
      out.set(key, {
        process: row.process,
        bytesIn: row.bytesIn,
        bytesOut: row.bytesOut,
        rateIn: row.rateIn,
        rateOut: row.rateOut,
      });
    else {
      t.process = { ...t.process, pid: 0 }; // several processes: no one pid
      t.bytesIn += row.bytesIn;
      t.bytesOut += row.bytesOut;
      t.rateIn += row.rateIn;
      t.rateOut += row.rateOut;
    }
  }
  return out;
}

function pick(d: Direction, inValue: number, outValue: number): number {
  return d === 'in' ? inValue : d === 'out' ? outValue : inValue + outValue;
}

function dir(d: Direction): string {
  return d === 'in' ? ' down' : d === 'out' ? ' up' : '';
}

/** A rule's `program`: a glob (`*`, `?`) over the program's name or path; none matches all. */
function matches(pattern: string | undefined, p: AlertProcess): boolean {
  if (!pattern) return true;
  const re = globs.get(pattern) ?? glob(pattern);
  return re.test(p.name) || re.test(p.path);
}

const globs = new Map<string, RegExp>();
function glob(pattern: string): RegExp {
  const re = new RegExp(
    `^${[...pattern].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')}$`,
  );
  if (globs.size < 256) globs.set(pattern, re);
  return re;
}

/*
 * Per-program byte counters with OpenTelemetry's process metric names
 * (https://opentelemetry.io/docs/specs/semconv/system/process-metrics/: process.network.io, unit By,
 * attribute network.io.direction = receive | transmit), fed from a live monitor's cumulative
 * per-process totals. What Prometheus needs of them:
 * - monotonic: a series only ever grows for the life of the process that serves it; a process
 *   that exits adds its last bytes and stays, so no series goes down or resets;
 * - bounded: at most maxSeries programs; the bytes of any program past that go to one overflow
 *   series (otel.metric.overflow="true", as the OpenTelemetry SDK names its own), which also only
 *   grows; a series idle past idleTtlMs is dropped (Prometheus marks it stale) and frees its slot.
 * Pids are an attribute only when asked (withPid): each run of a program is then a series.
 */

/** A process as a monitor labels it (@netwho/monitor's Process fits). */
export interface MeteredProcess {
  pid: number;
  name: string;
  path: string;
  cgroup?: { unit?: string; user?: number; container?: { runtime: string; id: string; name?: string } };
}

export interface MeteredSnapshot {
  /** ms since 1970. */
  at: number;
  programs: readonly {
    key: string;
    process?: MeteredProcess;
    bytesIn: number;
    bytesOut: number;
    /** Connections it holds now, closing ones (FIN or RST seen) included. */
    connections: number;
    /** Of those, the ones still open; `connections` when not given. */
    openConnections?: number;
  }[];
}

/** Attribute names, as OpenTelemetry spells them. */
export type ProcessAttributes = Readonly<Record<string, string>>;

export interface ProcessSeries {
  attributes: ProcessAttributes;
  receive: number;
  transmit: number;
  /** Open connections now (a gauge). */
  connections: number;
  /** ms since 1970 of the last observation that moved it. */
  lastActive: number;
}

export interface ProcessMetricsOptions {
  /** Programs with a series of their own (default 500). */
  maxSeries?: number;
  /** A series without traffic this long is dropped (default 1 hour). */
  idleTtlMs?: number;
  /** Add process.pid (each run its own series; default false). */
  withPid?: boolean;
}

export const OVERFLOW: ProcessAttributes = Object.freeze({ 'otel.metric.overflow': 'true' });
const UNKNOWN_NAME = 'unknown';

/** The attributes of a process: name and path, with its systemd unit and container when known. */
export function processAttributes(process: MeteredProcess | undefined, withPid: boolean): ProcessAttributes {
  if (!process) return { 'process.executable.name': UNKNOWN_NAME };
  const a: Record<string, string> = { 'process.executable.name': process.name };
  if (process.path) a['process.executable.path'] = process.path;
  const cg = process.cgroup;
  if (cg?.unit) a['systemd.unit'] = cg.user !== undefined ? `${cg.unit} (user ${cg.user})` : cg.unit;
  if (cg?.container) {
    a['container.id'] = cg.container.id;
    if (cg.container.name) a['container.name'] = cg.container.name;
    a['container.runtime'] = cg.container.runtime;
  }
  if (withPid) a['process.pid'] = String(process.pid);
  return a;
}

function keyOf(a: ProcessAttributes): string {
  return Object.keys(a)
    .sort()
    .map((k) => `${k}=${a[k]}`)
    .join('\0');
}

export class ProcessMetrics {
  readonly maxSeries: number;
  readonly idleTtlMs: number;
  readonly withPid: boolean;
  private readonly series = new Map<string, ProcessSeries>();
  private overflowSeries: ProcessSeries | undefined;
  /** Last cumulative totals per monitor key, to turn them into deltas. */
  private last = new Map<string, { bytesIn: number; bytesOut: number }>();
  /** Programs that went to the overflow series because every slot was taken, since the start. */
  overflowed = 0;
  /** Series dropped after idleTtlMs, since the start. */
  expired = 0;

  constructor(options: ProcessMetricsOptions = {}) {
    this.maxSeries = options.maxSeries ?? 500;
    this.idleTtlMs = options.idleTtlMs ?? 3_600_000;
    this.withPid = options.withPid ?? false;
    if (!(Number.isInteger(this.maxSeries) && this.maxSeries > 0))
      throw new RangeError('maxSeries must be a positive integer');
    if (!(this.idleTtlMs > 0)) throw new RangeError('idleTtlMs must be above 0');
  }

  /** Adds what moved since the last snapshot; a key not seen before counts from zero. */
  observe(snapshot: MeteredSnapshot): void {
    const next = new Map<string, { bytesIn: number; bytesOut: number }>();
    const connections = new Map<ProcessSeries, number>();
    for (const p of snapshot.programs) {
      const prev = this.last.get(p.key);
      next.set(p.key, { bytesIn: p.bytesIn, bytesOut: p.bytesOut });
      // A total lower than before is a restarted count (the monitor forgot the key): taken whole.
      const dIn = prev === undefined || p.bytesIn < prev.bytesIn ? p.bytesIn : p.bytesIn - prev.bytesIn;
      const dOut = prev === undefined || p.bytesOut < prev.bytesOut ? p.bytesOut : p.bytesOut - prev.bytesOut;
      if (dIn === 0 && dOut === 0 && p.connections === 0) continue;
      const s = this.seriesOf(processAttributes(p.process, this.withPid), snapshot.at);
      s.receive += dIn;
      s.transmit += dOut;
      if (dIn > 0 || dOut > 0 || p.connections > 0) s.lastActive = snapshot.at;
      connections.set(s, (connections.get(s) ?? 0) + (p.openConnections ?? p.connections));
    }
    for (const s of this.all()) s.connections = connections.get(s) ?? 0;
    this.last = next;
    this.expire(snapshot.at);
  }

  /** Every series now, the overflow series last. */
  all(): ProcessSeries[] {
    const out = [...this.series.values()];
    if (this.overflowSeries) out.push(this.overflowSeries);
    return out;
  }

  get size(): number {
    return this.series.size;
  }

  private seriesOf(attributes: ProcessAttributes, at: number): ProcessSeries {
    const key = keyOf(attributes);
    let s = this.series.get(key);
    if (s) return s;
    if (this.series.size >= this.maxSeries) {
      this.overflowed++;
      this.overflowSeries ??= {
        attributes: OVERFLOW,
        receive: 0,
        transmit: 0,
        connections: 0,
        lastActive: at,
      };
      return this.overflowSeries;
    }
    s = { attributes, receive: 0, transmit: 0, connections: 0, lastActive: at };
    this.series.set(key, s);
    return s;
  }

  /** Drops series idle past the TTL (never the overflow series: it must not go down). */
  private expire(now: number): void {
    for (const [key, s] of this.series)
      if (now - s.lastActive > this.idleTtlMs && s.connections === 0) {
        this.series.delete(key);
        this.expired++;
      }
  }
}

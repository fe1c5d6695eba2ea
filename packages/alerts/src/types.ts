/** A program as a monitor labels it (structurally: @netwho/monitor's Process fits). */
export interface AlertProcess {
  pid: number;
  name: string;
  path: string;
}

/** What the engine reads from each snapshot (structurally: @netwho/monitor's TrafficSnapshot fits). */
export interface AlertSnapshot {
  /** ms since 1970. */
  at: number;
  programs: ReadonlyArray<{
    process?: AlertProcess;
    /** Cumulative bytes since the monitor started. */
    bytesIn: number;
    bytesOut: number;
    /** Bytes per second over the last tick. */
    rateIn: number;
    rateOut: number;
  }>;
  connections: ReadonlyArray<{
    label: { status: string; process?: AlertProcess };
    remote: { address: string; port: number };
    remoteName?: string;
    country?: string;
    asn?: number;
    asOrg?: string;
  }>;
}

export type Direction = 'in' | 'out' | 'both';

/** A rule: what makes an alert. `id` names it in alerts (default: its kind and index). */
export type AlertRule =
  /** A program moving more than `above` bytes per second (over one tick). */
  | { kind: 'rate'; id: string; above: number; direction: Direction; program?: string }
  /** A program moving more than `above` bytes within any `windowMs`. */
  | { kind: 'volume'; id: string; above: number; windowMs: number; direction: Direction; program?: string }
  /** A program's first network use: ever, when a history of known programs is given, else since the start. */
  | { kind: 'new-program'; id: string }
  /** A program talking to a country it has not talked to before (since the start). */
  | { kind: 'new-country'; id: string; program?: string }
  /** A program talking to an AS it has not talked to before (since the start). */
  | { kind: 'new-as'; id: string; program?: string }
  /** A connection to an address in one of the blocklist files (IPs and CIDRs, one a line). */
  | { kind: 'blocklist'; id: string; files: string[] };

export type AlertKind = AlertRule['kind'];

/** One alert: which rule, which program, what it did, with the figures that crossed the rule. */
export interface Alert {
  /** ms since 1970. */
  at: number;
  rule: { id: string; kind: AlertKind };
  program: { name: string; path: string; pid?: number };
  /** One line for people: `curl moved 12.0 MiB/s (above 10.0 MiB/s)`. */
  message: string;
  /** The numbers behind it: `rate`, `threshold`, `bytes`, `windowMs`, ... */
  figures: Record<string, number>;
  /** The remote end it is about (new-country, new-as, blocklist). */
  remote?: { address: string; name?: string; country?: string; asn?: number; asOrg?: string };
}

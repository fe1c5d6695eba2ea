/**
 * A program as history knows it: what stays the same across its runs. Pids are not part of it, so
 * a hundred runs of `curl` are one program. Empty strings stand for "not known"; a program with an
 * empty name is the traffic that was never attributed.
 */
export interface ProgramId {
  name: string;
  /** The executable's absolute path ('' when unknown). */
  path: string;
  /** The systemd unit ('' when none or unknown). */
  unit: string;
  /** The container, as its name or `runtime:id` ('' when none). */
  container: string;
  /** The user it runs as ('' or absent when unknown; files written before schema 2 know none). */
  user?: string;
}

/** One program's traffic in one interval. */
export interface ProgramInterval {
  program: ProgramId;
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
  /** The most connections it had open at once during the interval. */
  connections: number;
  /** The highest rate seen in the interval, in bytes per second (at the recorder's sampling step). */
  peakIn: number;
  peakOut: number;
}

/** A connection that ended, with its final counts. */
export interface ConnectionRecord {
  /** ms since 1970. */
  start: number;
  end: number;
  /** 'TCP', 'UDP', 'ICMP', ... */
  protocol: string;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** The program at the local end. */
  program: ProgramId;
  /** The program at the remote end, when it is on this machine too (loopback). */
  peer?: ProgramId;
  /** What the remote end is called (TLS SNI, DNS answer, reverse DNS), when known. */
  remoteName?: string;
  /** ISO 3166-1 alpha-2 country code of the remote address, when known. */
  country?: string;
  asn?: number;
  asOrg?: string;
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
  /** Still open when recording stopped: `end` is its last packet so far and the counts are up to then. */
  open?: boolean;
}

/** What one write adds: one interval's per-program rows and the connections that ended in it. */
export interface IntervalWrite {
  /** ms since 1970: the interval is [start, end). */
  start: number;
  end: number;
  programs: readonly ProgramInterval[];
  connections: readonly ConnectionRecord[];
  /** Connections that ended in the interval but were not kept (the recorder's bound); counted, not lost silently. */
  connectionsDropped?: number;
}

/** A time range for queries, in ms since 1970: [from, to). */
export interface TimeRange {
  from: number;
  to: number;
}

/** How rows are grouped: by program (name + path), or by its unit or container. */
export type ProgramGrouping = 'program' | 'unit' | 'container' | 'user';

export interface ProgramQuery extends TimeRange {
  /** Only this program: its name, its path, or its path's last component. */
  program?: string;
  by?: ProgramGrouping;
  /** At most this many rows, the busiest first (default 100). */
  limit?: number;
}

/** A program's totals over a range. */
export interface ProgramTotal {
  /** For `by: 'unit'` or `'container'` only `unit` or `container` is set; name and path are ''. */
  program: ProgramId;
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
  /** Connections of this program that ended in the range. */
  connections: number;
  /** The most connections it had open at once. */
  peakConnections: number;
  /** The highest rates in the range, bytes per second. */
  peakIn: number;
  peakOut: number;
  /** First and last interval (start, ms since 1970) with traffic in the range. */
  firstSeen: number;
  lastSeen: number;
}

export interface ConnectionQuery extends TimeRange {
  program?: string;
  /** At most this many rows (default 100). */
  limit?: number;
}

/** Totals of connections that ended in the range, per remote host (its name, else its address). */
export interface HostTotal {
  host: string;
  /** The addresses seen under that name (at most 8). */
  addresses: string[];
  country?: string;
  asn?: number;
  asOrg?: string;
  connections: number;
  bytesIn: number;
  bytesOut: number;
  /** The names of the programs that talked to it (at most 8). */
  programs: string[];
}

/** Totals of connections that ended in the range, per protocol and service port (the lower of the two ports). */
export interface PortTotal {
  protocol: string;
  port: number;
  connections: number;
  bytesIn: number;
  bytesOut: number;
  programs: string[];
}

export interface SeriesQuery extends TimeRange {
  /**
   * Bucket width in ms (default: about the range / 60, rounded, at least 10 s). Rows of 10 min or
   * an hour are used where they are no wider than a bucket, and counted in the bucket they begin in.
   */
  step?: number;
  program?: string;
  /** The busiest programs get a series of their own; the rest are summed as `other` (default 8). */
  top?: number;
}

/** Bytes per bucket for the busiest programs, for a stacked chart. */
export interface Series {
  step: number;
  /** Bucket starts, ms since 1970. */
  buckets: number[];
  series: { program: ProgramId | 'other'; bytesIn: number[]; bytesOut: number[] }[];
}

/** What the store holds and how it is doing. */
export interface StoreInfo {
  path: string;
  schemaVersion: number;
  /** Bytes of the file in use (pages not on the free list). */
  bytes: number;
  /** The oldest and newest interval stored, ms since 1970 (undefined when empty). */
  oldest?: number;
  newest?: number;
  programs: number;
  intervals: number;
  connections: number;
  /** Intervals written and connections dropped by recorders (not kept) since the file was made. */
  writes: number;
  connectionsDropped: number;
}

import { type ConnectionRow, type ProgramRow, serviceOf, type TrafficSnapshot } from '@netwho/monitor';

/** A remote host, by name when it has one: the traffic of every connection to it. */
export interface HostRow {
  /** Its name (SNI, Host, DNS answer, reverse DNS), else its address. */
  host: string;
  /** The addresses it was reached at (at most 8 kept), the first one first. */
  addresses: string[];
  /** Where the first address is (see placeOf). */
  place: string;
  bytesIn: number;
  bytesOut: number;
  connections: number;
  programs: string[];
  service: string;
}

export function programName(row: ProgramRow): string {
  return row.process?.name ?? 'unknown';
}

export function labelName(c: ConnectionRow): string {
  if (c.label.status === 'known') return c.label.process.name;
  return c.label.status === 'pending' ? '…' : `(${c.label.reason})`;
}

/** The Connections view's program cell: its name, and `(exited)` when it had exited before its flow was seen. */
export function ownerCell(c: ConnectionRow): string {
  const name = labelName(c);
  return c.label.status === 'known' && c.label.exited ? `${name} (exited)` : name;
}

/** The program at the other end when it is on this machine too (loopback), else ''. */
export function peerName(c: ConnectionRow): string {
  if (!c.peer) return '';
  if (c.peer.status === 'known') return `${c.peer.process.name} (${c.peer.process.pid})`;
  return c.peer.status === 'pending' ? '…' : `(${c.peer.reason})`;
}

/** Connections grouped by remote host: its name when known (a CDN name over many addresses is one host), else its address. */
export function hosts(snapshot: TrafficSnapshot): HostRow[] {
  const byHost = new Map<string, HostRow>();
  for (const c of snapshot.connections) {
    const host = c.remoteName ?? c.remote.address;
    let row = byHost.get(host);
    if (!row) {
      row = {
        host,
        addresses: [],
        place: placeOf(c),
        bytesIn: 0,
        bytesOut: 0,
        connections: 0,
        programs: [],
        service: '',
      };
      byHost.set(host, row);
    }
    if (row.addresses.length < 8 && !row.addresses.includes(c.remote.address))
      row.addresses.push(c.remote.address);
    row.bytesIn += c.bytesIn;
    row.bytesOut += c.bytesOut;
    row.connections++;
    const name = labelName(c);
    if (!row.programs.includes(name)) row.programs.push(name);
    row.service ||= serviceOf(c.remote.port, c.local.port);
  }
  return [...byHost.values()];
}

/**
 * Where a remote end is, in a few characters: `US AS15169 Google LLC` for a public address, its
 * scope (`loopback`, `private`, `cgnat`, ...) for the others, '' when nothing is known.
 */
export function placeOf(c: {
  remoteScope?: string;
  country?: string | null;
  asn?: number | null;
  asOrg?: string | null;
}): string {
  if (c.remoteScope && c.remoteScope !== 'public') return c.remoteScope;
  return [c.country, c.asn != null ? `AS${c.asn}` : undefined, c.asOrg].filter(Boolean).join(' ');
}

export type SortKey = 'rate' | 'total' | 'name' | 'connections';
export const SORT_KEYS: SortKey[] = ['rate', 'total', 'name', 'connections'];

interface Sortable {
  rateIn: number;
  rateOut: number;
  bytesIn: number;
  bytesOut: number;
  connections: number;
}

export function sortPrograms<T extends Sortable>(
  rows: readonly T[],
  key: SortKey,
  name: (row: T) => string,
): T[] {
  const by: Record<SortKey, (a: T, b: T) => number> = {
    rate: (a, b) =>
      b.rateIn + b.rateOut - (a.rateIn + a.rateOut) || b.bytesIn + b.bytesOut - (a.bytesIn + a.bytesOut),
    total: (a, b) => b.bytesIn + b.bytesOut - (a.bytesIn + a.bytesOut),
    name: (a, b) => name(a).localeCompare(name(b)),
    connections: (a, b) => b.connections - a.connections,
  };
  return [...rows].sort(by[key]);
}

/**
 * `--host PATTERN`: a shell-style glob (`*` any run, `?` one character; case-insensitive, whole
 * string) matched against a remote end's address and its name when one is known.
 */
export function hostMatcher(pattern: string): (address: string, name: string | undefined) => boolean {
  const body = [...pattern]
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  const re = new RegExp(`^${body}$`, 'i');
  return (address, name) => re.test(address) || (name !== undefined && re.test(name));
}

/** The snapshot with only the connections whose remote end (address or name) matches (programs unchanged). */
export function withHosts(
  snapshot: TrafficSnapshot,
  match: ((address: string, name: string | undefined) => boolean) | undefined,
): TrafficSnapshot {
  if (!match) return snapshot;
  return {
    ...snapshot,
    connections: snapshot.connections.filter((c) => match(c.remote.address, c.remoteName)),
  };
}

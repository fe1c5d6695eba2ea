import type { Process } from '@netwho/attributor';
import type { ProgramRow } from './snapshot';

/**
 * How the per-process rows of a snapshot are shown. People think of traffic per program (every
 * run of `curl` together), or per service or container; `pid` shows processes one by one.
 */
export type Grouping = 'program' | 'pid' | 'unit' | 'container' | 'user';
export const GROUPINGS: readonly Grouping[] = ['program', 'pid', 'unit', 'container', 'user'];

/** One row of a grouped view: the sum of its member processes. */
export interface ProgramGroup {
  /** `program:/usr/bin/curl` (`name:curl` when the path is unknown), `unit:…`, `container:…`, `user:…`, `pid:…`, `idle:…`, `unknown`. */
  key: string;
  /** What to show: the program's name, the unit, the container, the user, or `name (N idle or exited)`. */
  label: string;
  /** The most recently active member's process (its pid, path, cgroup); none for traffic not attributed. */
  process?: Process;
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
  rateIn: number;
  rateOut: number;
  /** Connections its members hold now, closing ones included; `openConnections`: those still open. */
  connections: number;
  openConnections: number;
  /** Member processes active within the grace period (moving bytes or holding a connection). */
  processes: number;
  /** Members past the grace period (exited, or idle): their totals are in the row, they are not counted in `processes`. */
  inactive: number;
  /** The member rows' keys (`pid:…`), the most recently active first. */
  members: string[];
  lastActive: number;
}

export interface GroupingOptions {
  by: Grouping;
  /** ms since 1970, for the grace period. */
  now: number;
  /** A process neither moving bytes nor holding a connection this long leaves the live rows (default 10 s). */
  graceMs?: number;
}

/** The program a process row belongs to: its executable's path, else its name. */
export function programKeyOf(row: ProgramRow): string {
  if (!row.process) return 'unknown';
  return row.process.path ? `program:${row.process.path}` : `name:${row.process.name}`;
}

function groupKeyOf(row: ProgramRow, by: Grouping): string {
  if (!row.process) return 'unknown';
  const cg = row.process.cgroup;
  if (by === 'unit')
    return cg?.unit ? `unit:${cg.unit}${cg.user !== undefined ? `@${cg.user}` : ''}` : 'unit:';
  if (by === 'container')
    return cg?.container
      ? `container:${cg.container.name ?? `${cg.container.runtime}:${cg.container.id}`}`
      : 'container:';
  if (by === 'user') return row.process.user ? `user:${row.process.user.uid}` : 'user:';
  return programKeyOf(row);
}

function labelOf(row: ProgramRow, by: Grouping): string {
  if (!row.process) return 'unknown';
  const cg = row.process.cgroup;
  if (by === 'unit')
    return cg?.unit ? (cg.user !== undefined ? `${cg.unit} (user ${cg.user})` : cg.unit) : '(no unit)';
  if (by === 'container')
    return cg?.container
      ? (cg.container.name ?? `${cg.container.runtime}:${cg.container.id.slice(0, 12)}`)
      : '(no container)';
  if (by === 'user') return row.process.user?.name ?? '(unknown user)';
  return row.process.name;
}

/**
 * Groups process rows. Totals of a group are the sums of its members, all of them: a process
 * that exited or went idle keeps its bytes in its group. With `by: 'pid'` every active process is
 * a row of its own and the inactive ones of each program are folded into one `idle:` row, so the
 * live rows are not pushed off the screen by twenty finished runs of `curl`. Pure.
 */
export function groupPrograms(rows: readonly ProgramRow[], options: GroupingOptions): ProgramGroup[] {
  const grace = options.graceMs ?? 10_000;
  const groups = new Map<string, ProgramGroup>();
  const sorted = [...rows].sort((a, b) => b.lastActive - a.lastActive);
  for (const row of sorted) {
    const active = row.connections > 0 || options.now - row.lastActive <= grace;
    let key: string;
    let label: string;
    if (options.by === 'pid') {
      key = active || !row.process ? row.key : `idle:${programKeyOf(row)}`;
      label = row.process?.name ?? 'unknown';
    } else {
      key = groupKeyOf(row, options.by);
      label = labelOf(row, options.by);
    }
    let g = groups.get(key);
    if (!g) {
      g = {
        key,
        label,
        ...(row.process && { process: row.process }),
        bytesIn: 0,
        bytesOut: 0,
        packetsIn: 0,
        packetsOut: 0,
        rateIn: 0,
        rateOut: 0,
        connections: 0,
        openConnections: 0,
        processes: 0,
        inactive: 0,
        members: [],
        lastActive: row.lastActive,
      };
      groups.set(key, g);
    }
    g.bytesIn += row.bytesIn;
    g.bytesOut += row.bytesOut;
    g.packetsIn += row.packetsIn;
    g.packetsOut += row.packetsOut;
    g.rateIn += row.rateIn;
    g.rateOut += row.rateOut;
    g.connections += row.connections;
    g.openConnections += row.openConnections;
    g.members.push(row.key);
    if (active && row.process) g.processes++;
    else if (row.process) g.inactive++;
  }
  for (const g of groups.values())
    if (g.key.startsWith('idle:')) g.label = `${g.label} (${g.inactive} idle or exited)`;
  return [...groups.values()];
}

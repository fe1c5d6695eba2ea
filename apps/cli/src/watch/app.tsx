import type { Alert } from '@netwho/alerts';
import { cgroupLabel } from '@netwho/listeners';
import {
  GROUPINGS,
  type Grouping,
  groupPrograms,
  serviceOf,
  type TrafficMonitor,
  type TrafficSnapshot,
} from '@netwho/monitor';
import { Box, type Key, Text, useApp, useInput, useStdout } from 'ink';
import { type ReactElement, useEffect, useState } from 'react';
import { alertLine } from '../alerts/setup';
import { bytes, endpoint, rate } from '../output/format';
import { shorten } from '../output/table';
import type { ViewState } from './remember';
import {
  hostMatcher,
  hosts,
  ownerCell,
  peerName,
  placeOf,
  SORT_KEYS,
  type SortKey,
  sortPrograms,
  withHosts,
} from './views';

const TABS = ['Programs', 'Connections', 'Remote hosts'] as const;

interface Props {
  monitor: TrafficMonitor;
  /** Alerts the snapshots raised: the latest are shown under the header. */
  alerts?: { recent(): Alert[] };
  notice: string | undefined;
  intervalMs: number;
  devices: string;
  /** How the Programs view groups processes at first (g cycles). */
  grouping: Grouping;
  /** --host: only connections whose remote end matches, in the Connections and Remote hosts views. */
  host?: string;
  /** --remember: the view to start with, and where each change goes. */
  initial?: ViewState;
  onViewChange?: (state: ViewState) => void;
}

/** The live view of `netwho watch`: a tab per view, refreshed every interval. */
export function WatchApp({
  monitor,
  alerts,
  notice,
  intervalMs,
  devices,
  grouping: initialGrouping,
  host,
  initial,
  onViewChange,
}: Props) {
  const [match] = useState(() => (host ? hostMatcher(host) : undefined));
  const { exit } = useApp();
  const { stdout } = useStdout();
  const [snapshot, setSnapshot] = useState<TrafficSnapshot>(() => monitor.snapshot());
  const [tab, setTab] = useState(initial?.tab ?? 0);
  const [paused, setPaused] = useState(false);
  const [sort, setSort] = useState<SortKey>(initial?.sort ?? 'rate');
  const [grouping, setGrouping] = useState<Grouping>(initial?.grouping ?? initialGrouping);
  useEffect(() => onViewChange?.({ tab, sort, grouping }), [onViewChange, tab, sort, grouping]);
  // The Programs view's cursor (a group's key) and the groups opened into their processes.
  const [selected, setSelected] = useState(0);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const groupKeys = tab === 0 ? programList(snapshot, sort, grouping).map((g) => g.key) : [];

  useEffect(() => {
    if (paused) return;
    const timer = setInterval(() => setSnapshot(monitor.snapshot()), intervalMs);
    return () => clearInterval(timer);
  }, [monitor, intervalMs, paused]);

  // Keys typed faster than a frame arrive together ("gg"): each is a key of its own.
  useInput((input, key) => {
    if (input.length > 1 && !key.ctrl && !key.meta) for (const ch of input) onKey(ch, key);
    else onKey(input, key);
  });
  function onKey(input: string, key: Key): void {
    if (input === 'q' || key.escape) exit();
    else if (input === 'p' || input === ' ') setPaused((p) => !p);
    else if (input === 's') setSort((s) => SORT_KEYS[(SORT_KEYS.indexOf(s) + 1) % SORT_KEYS.length]!);
    else if (input === 'g') {
      setGrouping((g) => GROUPINGS[(GROUPINGS.indexOf(g) + 1) % GROUPINGS.length]!);
      setExpanded(new Set());
    } else if (tab === 0 && key.downArrow)
      setSelected((i) => Math.min(i + 1, Math.max(0, groupKeys.length - 1)));
    else if (tab === 0 && key.upArrow) setSelected((i) => Math.max(0, i - 1));
    else if (tab === 0 && (key.return || input === 'e')) {
      const k = groupKeys[Math.min(selected, groupKeys.length - 1)];
      if (k !== undefined)
        setExpanded((e) => {
          const next = new Set(e);
          if (!next.delete(k)) next.add(k);
          return next;
        });
    } else if (key.tab || key.rightArrow) setTab((t) => (t + 1) % TABS.length);
    else if (key.leftArrow) setTab((t) => (t + TABS.length - 1) % TABS.length);
    else if (input >= '1' && input <= '3') setTab(Number(input) - 1);
  }

  const shownAlerts = (alerts?.recent() ?? []).slice(-3);
  const rows = Math.max(5, (stdout.rows ?? 24) - 7 - shownAlerts.length - (lossLine(snapshot) ? 1 : 0));
  const width = stdout.columns ?? 100;
  const totalIn = snapshot.programs.reduce((n, p) => n + p.rateIn, 0);
  const totalOut = snapshot.programs.reduce((n, p) => n + p.rateOut, 0);
  return (
    <Box flexDirection="column">
      <Box>
        <Text bold>netwho watch</Text>
        <Text>
          {'  '}
          {snapshot.mode === 'capture' ? `capture on ${devices}` : 'socket table (TCP only)'}
          {snapshot.owners ? `  owners: ${ownersText(snapshot.owners)}` : ''}
          {'  '}down {rate(totalIn)} up {rate(totalOut)}
          {paused ? '  [paused]' : ''}
        </Text>
      </Box>
      {notice ? <Text color="yellow">{notice}</Text> : null}
      {lossLine(snapshot) ? <Text color="red">{lossLine(snapshot)}</Text> : null}
      {shownAlerts.map((a) => (
        <Text key={`${a.at}-${a.rule.id}-${a.program.path}-${a.remote?.address ?? ''}`} color="yellow">
          {`alert ${alertLine(a)}`}
        </Text>
      ))}
      <Box>
        {TABS.map((name, i) => (
          <Text key={name} inverse={i === tab}>
            {` ${i + 1} ${name} `}
          </Text>
        ))}
        <Text
          dimColor
        >{`  by: ${grouping}  sort: ${sort}   keys: tab/1-3 view  ↑↓ enter open  g group  s sort  p pause  q quit`}</Text>
      </Box>
      {tab === 0 ? (
        <Programs
          snapshot={snapshot}
          sort={sort}
          grouping={grouping}
          rows={rows}
          width={width}
          selected={Math.min(selected, Math.max(0, groupKeys.length - 1))}
          expanded={expanded}
        />
      ) : null}
      {tab === 1 ? <Connections snapshot={withHosts(snapshot, match)} rows={rows} width={width} /> : null}
      {tab === 2 ? <Hosts snapshot={withHosts(snapshot, match)} rows={rows} width={width} /> : null}
    </Box>
  );
}

const cell = (text: string, width: number, right = false) => {
  const t = shorten(text, width);
  return right ? t.padStart(width) : t.padEnd(width);
};

/** The Programs view's groups in the order shown. */
function programList(snapshot: TrafficSnapshot, sort: SortKey, grouping: Grouping) {
  return sortPrograms(
    groupPrograms(snapshot.programs, { by: grouping, now: snapshot.at }),
    sort,
    (g) => g.label,
  );
}

function Programs({
  snapshot,
  sort,
  grouping,
  rows,
  width,
  selected,
  expanded,
}: {
  snapshot: TrafficSnapshot;
  sort: SortKey;
  grouping: Grouping;
  rows: number;
  width: number;
  /** The cursor's row (↑↓), and the groups opened into their processes (enter). */
  selected: number;
  expanded: ReadonlySet<string>;
}) {
  const all = programList(snapshot, sort, grouping);
  // Keep the cursor's row on screen.
  const from = Math.max(0, Math.min(selected - rows + 1, all.length - rows));
  const list = all.slice(Math.max(0, from), Math.max(0, from) + rows);
  const byKey = new Map(snapshot.programs.map((p) => [p.key, p]));
  const pathWidth = Math.max(10, width - 109);
  const first =
    grouping === 'unit'
      ? 'UNIT'
      : grouping === 'container'
        ? 'CONTAINER'
        : grouping === 'user'
          ? 'USER'
          : 'PROGRAM';
  // PROCS: the processes active now, and +N those idle or exited whose bytes are in the row.
  const procs = (g: (typeof all)[number]) =>
    grouping === 'pid' && g.processes === 1 && g.process
      ? String(g.process.pid)
      : `${g.processes}${g.inactive ? `+${g.inactive}` : ''}`;
  const lines: ReactElement[] = [];
  list.forEach((g, i) => {
    if (lines.length >= rows) return;
    const open = expanded.has(g.key);
    lines.push(
      <Text key={g.key} dimColor={!g.process || g.processes === 0} inverse={from + i === selected}>
        {cell(`${g.members.length > 1 ? (open ? '▾ ' : '▸ ') : '  '}${g.label}`, 22)}{' '}
        {cell(g.process ? procs(g) : '-', 8, true)} {cell(rate(g.rateIn), 11, true)}{' '}
        {cell(rate(g.rateOut), 11, true)} {cell(bytes(g.bytesIn), 11, true)}{' '}
        {cell(bytes(g.bytesOut), 11, true)} {cell(String(g.connections), 5, true)}{' '}
        {cell((grouping === 'unit' ? g.process?.name : cgroupLabel(g.process?.cgroup)) ?? '-', 22)}{' '}
        {shorten(grouping === 'program' || grouping === 'pid' ? (g.process?.path ?? '') : '', pathWidth)}
      </Text>,
    );
    if (!open) return;
    // The group's processes, most recently active first: each one's own pid, rates and totals.
    for (const key of g.members) {
      const p = byKey.get(key);
      if (!p || lines.length >= rows) continue;
      lines.push(
        <Text key={`${g.key} ${key}`} dimColor={p.rateIn + p.rateOut === 0 && p.connections === 0}>
          {cell(`    ${p.process?.name ?? 'unknown'}`, 22)} {cell(String(p.process?.pid ?? '-'), 8, true)}{' '}
          {cell(rate(p.rateIn), 11, true)} {cell(rate(p.rateOut), 11, true)}{' '}
          {cell(bytes(p.bytesIn), 11, true)} {cell(bytes(p.bytesOut), 11, true)}{' '}
          {cell(String(p.connections), 5, true)} {cell(cgroupLabel(p.process?.cgroup) ?? '-', 22)}{' '}
          {shorten(p.process?.path ?? '', pathWidth)}
        </Text>,
      );
    }
  });
  return (
    <Box flexDirection="column">
      <Text bold>
        {cell(`  ${first}`, 22)} {cell(grouping === 'pid' ? 'PID' : 'PROCS', 8, true)}{' '}
        {cell('DOWN/s', 11, true)} {cell('UP/s', 11, true)} {cell('TOTAL DOWN', 11, true)}{' '}
        {cell('TOTAL UP', 11, true)} {cell('CONN', 5, true)}{' '}
        {cell(grouping === 'unit' ? 'PROGRAM' : 'UNIT', 22)} PATH
      </Text>
      {lines}
      {all.length === 0 ? <Text dimColor>no traffic yet</Text> : null}
    </Box>
  );
}

/** Columns every Connections row has, with their separating spaces (PROGRAM to UP). */
const CONNECTION_COLUMNS = 18 + 6 + 24 + 34 + 10 + 10 + 10 + 7;

/** `text` cut to `max` characters, nothing when there is no room. */
const fit = (text: string, max: number) => (max > 0 ? shorten(text, max) : '');

function Connections({ snapshot, rows, width }: { snapshot: TrafficSnapshot; rows: number; width: number }) {
  const list = [...snapshot.connections].sort((a, b) => b.lastSeen - a.lastSeen).slice(0, rows);
  // REMOTE is the name the program asked for (or DNS gave) with the port; WHERE its country and
  // AS, when the terminal is wide enough; the rest of a line is OTHER END, cut to fit (no wrapping).
  const where = width >= CONNECTION_COLUMNS + 25 + 10 ? 24 : 0;
  const rest = width - CONNECTION_COLUMNS - (where ? where + 1 : 0) - 1;
  return (
    <Box flexDirection="column">
      <Text bold>
        {cell('PROGRAM', 18)} {cell('PROTO', 6)} {cell('LOCAL', 24)} {cell('REMOTE', 34)}{' '}
        {where ? `${cell('WHERE', where)} ` : ''}
        {cell('SERVICE', 10)} {cell('DOWN', 10, true)} {cell('UP', 10, true)} {fit('OTHER END', rest)}
      </Text>
      {list.map((c) => (
        <Text key={c.id} dimColor={c.label.status !== 'known'}>
          {cell(ownerCell(c), 18)} {cell(c.protocol, 6)} {cell(endpoint(c.local), 24)}{' '}
          {cell(c.remoteName ? `${c.remoteName}:${c.remote.port}` : endpoint(c.remote), 34)}{' '}
          {where ? `${cell(placeOf(c), where)} ` : ''}
          {cell(serviceOf(c.remote.port, c.local.port), 10)} {cell(bytes(c.bytesIn), 10, true)}{' '}
          {cell(bytes(c.bytesOut), 10, true)} {fit(peerName(c), rest)}
        </Text>
      ))}
    </Box>
  );
}

function Hosts({ snapshot, rows, width }: { snapshot: TrafficSnapshot; rows: number; width: number }) {
  const list = hosts(snapshot)
    .sort((a, b) => b.bytesIn + b.bytesOut - (a.bytesIn + a.bytesOut))
    .slice(0, rows);
  return (
    <Box flexDirection="column">
      <Text bold>
        {cell('REMOTE HOST', 36)} {cell('WHERE', 24)} {cell('SERVICE', 10)} {cell('DOWN', 10, true)}{' '}
        {cell('UP', 10, true)} {cell('CONN', 5, true)} PROGRAMS
      </Text>
      {list.map((h) => (
        <Text key={h.host}>
          {cell(h.addresses.length > 1 ? `${h.host} (${h.addresses.length} addr)` : h.host, 36)}{' '}
          {cell(h.place, 24)} {cell(h.service, 10)} {cell(bytes(h.bytesIn), 10, true)}{' '}
          {cell(bytes(h.bytesOut), 10, true)} {cell(String(h.connections), 5, true)}{' '}
          {fit(h.programs.join(', '), width - 102)}
        </Text>
      ))}
    </Box>
  );
}

/** Said whenever the capture lost packets, as tcpdump says at the end: nothing is lost silently. */
export function lossLine(snapshot: TrafficSnapshot): string | undefined {
  const c = snapshot.capture;
  const lost: string[] = [];
  if (c && c.kernelDropped + c.netwhoDropped > 0)
    lost.push(
      `dropped: ${c.kernelDropped} by the kernel (ring full), ${c.netwhoDropped} by netwho, of ${c.received ?? c.delivered + c.kernelDropped} received`,
    );
  const o = snapshot.owners;
  if (o && (o.lookupsDropped ?? 0) + (o.kernelWaitsDropped ?? 0) > 0)
    lost.push(
      `attribution: ${o.lookupsDropped ?? 0} lookups refused (queue full), ${o.kernelWaitsDropped ?? 0} flows not waited for in eBPF`,
    );
  const n = snapshot.names;
  if (n && n.evicted + n.dns.evicted > 0)
    lost.push(
      `names: ${n.evicted} flows not read (too many at once), ${n.dns.evicted} DNS answers forgotten (cache full)`,
    );
  return lost.length > 0 ? lost.join('; ') : undefined;
}

/** Where programs' names come from, for the header: eBPF, or the socket table and why not eBPF. */
export function ownersText(owners: NonNullable<TrafficSnapshot['owners']>): string {
  if (!owners.ebpf) return `socket table (no eBPF: ${owners.ebpfReason ?? 'unavailable'})`;
  const missing = owners.ebpfMissing ?? [];
  return missing.length === 0
    ? 'eBPF + socket table'
    : `eBPF (without ${missing.map((m) => m.hook).join(', ')}) + socket table`;
}

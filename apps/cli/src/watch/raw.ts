import type { CgroupInfo } from '@netwho/listeners';
import { type Grouping, groupPrograms, type RemoteEnd, type TrafficSnapshot } from '@netwho/monitor';
import { endpoint } from '../output/format';

/**
 * `watch --raw`: one JSON object per line, per program and per connection, each tick. Stable
 * fields (documented in the README); numbers are bytes and bytes per second.
 */
export function rawLines(s: TrafficSnapshot, grouping: Grouping = 'program'): string[] {
  const lines: string[] = [];
  // One line per group (program by default): what the Programs view shows, its members' pids.
  for (const g of groupPrograms(s.programs, { by: grouping, now: s.at })) {
    const pids = g.members.filter((k) => k.startsWith('pid:')).map((k) => Number(k.slice(4)));
    lines.push(
      JSON.stringify({
        type: 'group',
        at: Math.round(s.at),
        by: grouping,
        key: g.key,
        label: g.label,
        name: g.process?.name ?? null,
        path: g.process?.path || null,
        processes: g.processes,
        inactive: g.inactive,
        pids,
        rateIn: Math.round(g.rateIn),
        rateOut: Math.round(g.rateOut),
        bytesIn: g.bytesIn,
        bytesOut: g.bytesOut,
        connections: g.connections,
      }),
    );
  }
  for (const p of s.programs) {
    lines.push(
      JSON.stringify({
        type: 'program',
        at: Math.round(s.at),
        mode: s.mode,
        pid: p.process?.pid ?? null,
        name: p.process?.name ?? null,
        path: p.process?.path || null,
        rateIn: Math.round(p.rateIn),
        rateOut: Math.round(p.rateOut),
        bytesIn: p.bytesIn,
        bytesOut: p.bytesOut,
        connections: p.connections,
        ...cgroupFields(p.process?.cgroup),
      }),
    );
  }
  if (s.capture) {
    lines.push(
      JSON.stringify({
        type: 'capture',
        at: Math.round(s.at),
        backend: s.capture.backend,
        received: s.capture.received,
        delivered: s.capture.delivered,
        kernelDropped: s.capture.kernelDropped,
        netwhoDropped: s.capture.netwhoDropped,
        ...(s.capture.fallbackReason !== undefined && { fallbackReason: s.capture.fallbackReason }),
        ...(s.capture.readerCpu && { readerCpu: s.capture.readerCpu }),
        ...(s.names && {
          namesFound: s.names.named,
          namesNone: s.names.unnamed,
          namesNotRead: s.names.evicted,
          namesForgotten: s.names.forgotten,
          dnsAnswers: s.names.dns.answers,
          dnsForgotten: s.names.dns.evicted,
        }),
        ...(s.owners && {
          ebpf: s.owners.ebpf,
          ...(s.owners.ebpfReason !== undefined && { ebpfReason: s.owners.ebpfReason }),
          ...(s.owners.ebpfMissing && { ebpfMissing: s.owners.ebpfMissing }),
          fromEbpf: s.owners.fromEbpf,
          fromSocketTable: s.owners.fromSocketTable,
          lookupsDropped: s.owners.lookupsDropped ?? 0,
          kernelWaitsDropped: s.owners.kernelWaitsDropped ?? 0,
        }),
      }),
    );
  }
  for (const c of s.connections) {
    lines.push(
      JSON.stringify({
        type: 'connection',
        at: Math.round(s.at),
        protocol: c.protocol,
        local: endpoint(c.local),
        remote: endpoint(c.remote),
        status: c.label.status,
        pid: c.label.status === 'known' ? c.label.process.pid : null,
        name: c.label.status === 'known' ? c.label.process.name : null,
        reason: c.label.status === 'unknown' ? c.label.reason : null,
        source: c.label.status === 'known' ? (c.label.source ?? 'socket-table') : null,
        // An eBPF owner that had exited when its flow was seen: the kernel's name, no path.
        exited: c.label.status === 'known' ? c.label.exited === true : null,
        ...(c.peer && {
          peerPid: c.peer.status === 'known' ? c.peer.process.pid : null,
          peerName: c.peer.status === 'known' ? c.peer.process.name : null,
        }),
        bytesIn: c.bytesIn,
        bytesOut: c.bytesOut,
        ...remoteFields(c),
      }),
    );
  }
  return lines;
}

/** What is known of a connection's remote end, for its JSON line (null when unknown; scope absent without geo). */
export function remoteFields(c: RemoteEnd) {
  return {
    remoteName: c.remoteName ?? null,
    remoteNameSource: c.remoteNameSource ?? null,
    ...(c.remoteScope && { remoteScope: c.remoteScope }),
    country: c.country ?? null,
    asn: c.asn ?? null,
    asOrg: c.asOrg ?? null,
  };
}

/**
 * unit, container and pod of a program, for its JSON line: each null when it does not apply or
 * is not known (off Linux, a process gone before its cgroup was read), so every line has them.
 */
function cgroupFields(info: CgroupInfo | undefined) {
  return {
    unit: info?.unit ?? null,
    container: info?.container
      ? { runtime: info.container.runtime, id: info.container.id, name: info.container.name ?? null }
      : null,
    pod: info?.pod ? { uid: info.pod.uid, qos: info.pod.qos } : null,
  };
}

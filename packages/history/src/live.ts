import { IntervalRecorder, type IntervalRecorderOptions, type ObservedProgram } from './recorder';
import type { HistoryStore } from './store';
import type { ConnectionRecord, ProgramId } from './types';

/*
 * The shapes a live monitor reports, typed structurally so that this package needs none of ours:
 * @netwho/monitor's TrafficSnapshot and EndedConnection fit them as they are.
 */

/** A process as a monitor labels it; cgroup as @netwho/listeners describes it. */
export interface LiveProcess {
  pid: number;
  name: string;
  path: string;
  cgroup?: { unit?: string; user?: number; container?: { runtime: string; id: string; name?: string } };
  /** The user it runs as (@netwho/listeners' processUser). */
  user?: { uid: number; name: string };
}

export type LiveLabel = { status: 'known'; process: LiveProcess } | { status: 'pending' | 'unknown' };

export interface LiveSnapshot {
  /** ms since 1970. */
  at: number;
  programs: readonly {
    key: string;
    process?: LiveProcess;
    bytesIn: number;
    bytesOut: number;
    packetsIn: number;
    packetsOut: number;
    connections: number;
  }[];
}

export interface LiveEndedConnection {
  protocol: string;
  local: { address: string; port: number };
  remote: { address: string; port: number };
  label: LiveLabel;
  peer?: LiveLabel;
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
  firstSeen: number;
  lastSeen: number;
  remoteName?: string;
  country?: string;
  asn?: number;
  asOrg?: string;
}

export interface HistoryRecordingOptions extends IntervalRecorderOptions {
  /** Length of one interval row in ms (default 10,000). */
  intervalMs?: number;
  /** Told about a write that failed (the disk is full, the file went away); recording goes on. */
  onError?: (error: unknown) => void;
}

export interface RecordingStats {
  /** Intervals written, and writes that failed, since the start. */
  writes: number;
  writeErrors: number;
  lastError?: string;
  /** Ended connections not kept because an interval had more than its bound. */
  connectionsDropped: number;
}

const UNATTRIBUTED: ProgramId = Object.freeze({ name: '', path: '', unit: '', container: '' });

/**
 * Feeds a history store from a live monitor: every snapshot the app takes is observed (call
 * observe() with it; no snapshot of its own, so the app's rates are not disturbed), every ended
 * connection is noted, and each interval is written in one transaction on a timer.
 */
export class HistoryRecording {
  readonly store: HistoryStore;
  private readonly recorder: IntervalRecorder;
  private readonly intervalMs: number;
  private readonly onError: ((error: unknown) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** ProgramId objects per process object, so the store knows a program again by identity. */
  private ids = new WeakMap<LiveProcess, ProgramId>();
  private readonly counts: RecordingStats = { writes: 0, writeErrors: 0, connectionsDropped: 0 };

  constructor(store: HistoryStore, options: HistoryRecordingOptions = {}) {
    this.store = store;
    this.recorder = new IntervalRecorder(options);
    this.intervalMs = options.intervalMs ?? 10_000;
    this.onError = options.onError;
  }

  /** Starts writing one interval every intervalMs (the timer does not keep the process alive). */
  start(): this {
    this.timer ??= setInterval(() => this.flush(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  observe(snapshot: LiveSnapshot): void {
    const observed: ObservedProgram[] = [];
    for (const p of snapshot.programs)
      observed.push({
        key: p.key,
        program: this.programOf(p.process),
        bytesIn: p.bytesIn,
        bytesOut: p.bytesOut,
        packetsIn: p.packetsIn,
        packetsOut: p.packetsOut,
        connections: p.connections,
      });
    this.recorder.observe(snapshot.at, observed);
  }

  /** A connection ended (or, with `open`, is still open as recording stops: counts so far). */
  connectionEnded(c: LiveEndedConnection, open = false): void {
    const record: ConnectionRecord = {
      start: Math.round(c.firstSeen),
      end: Math.round(c.lastSeen),
      protocol: c.protocol,
      localAddress: c.local.address,
      localPort: c.local.port,
      remoteAddress: c.remote.address,
      remotePort: c.remote.port,
      program: c.label.status === 'known' ? this.programOf(c.label.process) : UNATTRIBUTED,
      ...(c.peer?.status === 'known' && { peer: this.programOf(c.peer.process) }),
      ...(c.remoteName !== undefined && { remoteName: c.remoteName }),
      ...(c.country !== undefined && { country: c.country }),
      ...(c.asn !== undefined && { asn: c.asn }),
      ...(c.asOrg !== undefined && { asOrg: c.asOrg }),
      bytesIn: c.bytesIn,
      bytesOut: c.bytesOut,
      packetsIn: c.packetsIn,
      packetsOut: c.packetsOut,
      ...(open && { open: true }),
    };
    this.recorder.connectionEnded(record);
  }

  /** Writes the interval in progress now (the timer calls it; close() does for the last one). */
  flush(now = Date.now()): void {
    const write = this.recorder.take(now);
    this.counts.connectionsDropped += write.connectionsDropped ?? 0;
    if (write.programs.length === 0 && write.connections.length === 0 && !write.connectionsDropped) return;
    try {
      this.store.write(write);
      this.counts.writes++;
    } catch (error) {
      this.counts.writeErrors++;
      this.counts.lastError = error instanceof Error ? error.message : String(error);
      this.ids = new WeakMap(); // ids the store cached in a failed transaction are gone with it
      this.onError?.(error);
    }
  }

  stats(): RecordingStats {
    return { ...this.counts };
  }

  /** Writes the last interval and stops; the store is the caller's to close. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
  }

  private programOf(process: LiveProcess | undefined): ProgramId {
    if (!process) return UNATTRIBUTED;
    let id = this.ids.get(process);
    if (!id) {
      id = programIdOf(process);
      if (id.path !== '') this.notePath(id.name, id.path);
      else {
        // A process that exited before its path was read: the path of its name, when this
        // recording has seen that name run from one path only.
        const path = this.pathsByName.get(id.name);
        if (path) id = { ...id, path };
      }
      id = this.intern(id);
      this.ids.set(process, id);
    }
    return id;
  }

  /** One ProgramId object per program (every run of curl gets the same), so the store knows it by identity. */
  private readonly programs = new Map<string, ProgramId>();

  private intern(id: ProgramId): ProgramId {
    const key = `${id.name}\0${id.path}\0${id.unit}\0${id.container}\0${id.user ?? ''}`;
    const known = this.programs.get(key);
    if (known) return known;
    if (this.programs.size >= 10_000) this.programs.clear();
    this.programs.set(key, id);
    return id;
  }

  /** name -> the one path seen for it, or '' once a second path was seen (bounded: cleared when full). */
  private readonly pathsByName = new Map<string, string>();

  private notePath(name: string, path: string): void {
    const known = this.pathsByName.get(name);
    if (known === path || known === '') return;
    if (this.pathsByName.size >= 10_000) this.pathsByName.clear();
    this.pathsByName.set(name, known === undefined ? path : '');
  }
}

/** What history keeps of a process: its name, path, systemd unit, container and user (not its pid). */
export function programIdOf(process: LiveProcess): ProgramId {
  const cg = process.cgroup;
  const unit = cg?.unit ? (cg.user !== undefined ? `${cg.unit} (user ${cg.user})` : cg.unit) : '';
  const container = cg?.container
    ? (cg.container.name ?? `${cg.container.runtime}:${cg.container.id.slice(0, 12)}`)
    : '';
  return { name: process.name, path: process.path, unit, container, user: process.user?.name ?? '' };
}

import type { CaptureHealth, ConnectionRow, OwnerSources, ProgramRow } from '@netwho/monitor';

/** One point of the traffic chart: ms since 1970, bytes per second in and out. */
export type HistoryPoint = [at: number, rateIn: number, rateOut: number];

/** What the server says about itself (GET /api/status and the first WebSocket message). */
export interface Status {
  mode: 'capture' | 'socket-table';
  /** Set when capture is not running: what runs instead and how to enable capture. */
  banner: string | null;
  devices: string[];
  intervalMs: number;
  version: string;
  /** Whether the History page has a history file to read. */
  history: boolean;
  /** When countries and AS are shown: where they come from, with the link their licence asks for. */
  geo: { text: string; href: string; linkText: string } | null;
}

/** A program row as the browser gets it: with its remote hosts' count and an icon URL. */
export interface ProgramView extends ProgramRow {
  icon: string | null;
  /** Where it runs: systemd unit, container or pod (Linux), null when none applies. */
  unit: string | null;
}

export interface ConnectionView extends ConnectionRow {
  /** `pid:<pid>` or `unknown`: the program row it counts under. */
  program: string;
  service: string;
  /** The remote end's name (remoteName: SNI, HTTP Host, DNS answer, reverse DNS, /etc/hosts), null when none. */
  host: string | null;
  /** The program's unit, container or pod (Linux), null when none applies. */
  unit: string | null;
  /** The program at the other end when it is on this machine too (loopback): "name (pid)". */
  peerName: string | null;
}

/** An alert as netwho's alert engine (@netwho/alerts) gives it. */
export interface WebAlert {
  at: number;
  rule: { id: string; kind: string };
  program: { name: string; path: string; pid?: number };
  message: string;
  figures: Record<string, number>;
  remote?: { address: string; name?: string; country?: string; asn?: number; asOrg?: string };
}

/** Where the dashboard's alerts come from (structurally: the CLI's alerts fit). */
export interface AlertSource {
  /** The alerts a snapshot raises (sent on to browsers as they come). */
  observe(snapshot: import('@netwho/monitor').TrafficSnapshot): WebAlert[];
  /** The latest, newest last. */
  recent(): WebAlert[];
}

/**
 * WebSocket messages from the server. `full` first, then one `tick` per interval with only what
 * changed: rows upserted (new or different) and keys removed.
 */
export type ServerMessage =
  | {
      type: 'full';
      status: Status;
      at: number;
      history: HistoryPoint[];
      programs: ProgramView[];
      connections: ConnectionView[];
      /** Capture mode: the engine and what it dropped (shown when anything was). */
      capture?: CaptureHealth;
      /** Where programs' names come from (eBPF, or the socket table and why). */
      owners?: OwnerSources;
      /** The latest alerts, newest last. */
      alerts: WebAlert[];
    }
  | {
      type: 'tick';
      at: number;
      point: HistoryPoint;
      capture?: CaptureHealth;
      owners?: OwnerSources;
      programs: { upsert: ProgramView[]; remove: string[] };
      connections: { upsert: ConnectionView[]; remove: number[] };
      /** Alerts raised by this tick's snapshot. */
      alerts?: WebAlert[];
    };

/** Messages the browser may send. */
export type ClientMessage = { type: 'pause' } | { type: 'resume' };

import type { CaptureHealth, OwnerSources } from '@netwho/monitor';
import type {
  ConnectionView,
  HistoryPoint,
  ProgramView,
  ServerMessage,
  Status,
  WebAlert,
} from '../server/protocol';

/** What the pages render: kept up to date from the WebSocket (a full state, then per-tick diffs). */
export interface Model {
  connected: boolean;
  paused: boolean;
  status: Status | undefined;
  history: HistoryPoint[];
  programs: Map<string, ProgramView>;
  connections: Map<number, ConnectionView>;
  at: number;
  /** The capture's counters (capture mode): what it received and dropped. */
  capture: CaptureHealth | undefined;
  owners: OwnerSources | undefined;
  /** The latest alerts, newest last (at most 200), and those of the last tick (shown as toasts). */
  alerts: WebAlert[];
  fresh: WebAlert[];
}

type Listener = (model: Model) => void;

const HISTORY = 600;

export class Store {
  model: Model = {
    connected: false,
    paused: false,
    status: undefined,
    history: [],
    programs: new Map(),
    connections: new Map(),
    at: 0,
    capture: undefined,
    owners: undefined,
    alerts: [],
    fresh: [],
  };
  private readonly listeners = new Set<Listener>();
  private socket: WebSocket | undefined;
  private retry = 500;

  connect(): void {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    const ws = new WebSocket(url);
    this.socket = ws;
    ws.onopen = () => {
      this.retry = 500;
      this.update({ connected: true });
    };
    ws.onmessage = (event) => this.apply(JSON.parse(String(event.data)) as ServerMessage);
    ws.onclose = () => {
      this.update({ connected: false });
      setTimeout(() => this.connect(), this.retry);
      this.retry = Math.min(this.retry * 2, 10_000);
    };
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setPaused(paused: boolean): void {
    this.socket?.send(JSON.stringify({ type: paused ? 'pause' : 'resume' }));
    this.update({ paused });
  }

  private apply(message: ServerMessage): void {
    if (message.type === 'full') {
      this.update({
        status: message.status,
        history: message.history,
        programs: new Map(message.programs.map((p) => [p.key, p])),
        connections: new Map(message.connections.map((c) => [c.id, c])),
        at: message.at,
        capture: message.capture,
        owners: message.owners,
        alerts: message.alerts ?? [],
        fresh: [],
      });
      return;
    }
    const programs = new Map(this.model.programs);
    for (const key of message.programs.remove) programs.delete(key);
    for (const p of message.programs.upsert) programs.set(p.key, p);
    const connections = new Map(this.model.connections);
    for (const id of message.connections.remove) connections.delete(id);
    for (const c of message.connections.upsert) connections.set(c.id, c);
    const history = [...this.model.history, message.point].slice(-HISTORY);
    this.update({
      programs,
      connections,
      history,
      at: message.at,
      capture: message.capture,
      owners: message.owners,
      ...(message.alerts && {
        alerts: [...this.model.alerts, ...message.alerts].slice(-200),
        fresh: [...this.model.fresh, ...message.alerts].slice(-5),
      }),
    });
  }

  /** A toast closed, or timed out. */
  dismiss(alert: WebAlert): void {
    this.update({ fresh: this.model.fresh.filter((a) => a !== alert) });
  }

  private update(patch: Partial<Model>): void {
    this.model = { ...this.model, ...patch };
    for (const listener of this.listeners) listener(this.model);
  }
}

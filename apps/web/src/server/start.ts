import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { CaptureError } from '@netwho/capture';
import { ATTRIBUTION } from '@netwho/geo';
import { HistoryRecording, HistoryStore } from '@netwho/history';
import {
  CaptureMonitor,
  type EndedConnection,
  type NamesOptions,
  SocketTableMonitor,
  type TrafficMonitor,
} from '@netwho/monitor';
import { IconFinder } from '@netwho/picon';
import { ProcessMetrics } from '@netwho/telemetry';
import { type WebSocket, WebSocketServer } from 'ws';
import { version } from '../version';
import { createApp } from './app';
import type { AlertSource, ServerMessage, Status } from './protocol';
import { hostAllowed, isLoopback, newToken, presentedToken, tokenMatches } from './security';
import { DashboardState } from './state';

export interface DashboardOptions {
  /** Address to bind (default 127.0.0.1). Any other address requires a token. */
  host?: string;
  /** Port (default 7777; 0 picks a free one). */
  port?: number;
  /** Token for non-loopback binds (generated when not given). Ignored on loopback unless `requireToken`. */
  token?: string;
  requireToken?: boolean;
  /** Capture devices and BPF filter (default: the default route's device). */
  devices?: string[];
  filter?: string;
  /** `auto` falls back to the socket-table source when capture is not permitted. */
  capture?: 'auto' | 'never' | 'required';
  /** false: do not load the eBPF owner programs (owners from the socket table only). Default true. */
  ebpf?: boolean;
  /** Linux: read packets on this CPU alone, the process's other threads off it (LiveCapture's `readerCpu`). Default: not bound. */
  readerCpu?: number;
  /** A traffic source of your own (tests, or another pipeline). */
  monitor?: TrafficMonitor;
  intervalMs?: number;
  /** Reverse DNS of remote hosts (default true). */
  dns?: boolean;
  /**
   * How remote ends are named and placed (default: names from SNI, Host and DNS answers, reverse
   * DNS unless `dns: false`, country and AS from @netwho/geo's bundled databases).
   */
  names?: NamesOptions;
  /**
   * Programs with a series of their own in /metrics (default 500; the rest go to one overflow
   * series). Counters never go down; a series idle for an hour is dropped.
   */
  metricsMaxSeries?: number;
  /**
   * Keep history in this file (recorded from the dashboard's snapshots and ended connections) and
   * serve the History page from it; `{ path, record: false }` only reads a file another netwho
   * writes. Default: no history.
   */
  history?: { path: string; record?: boolean } | false;
  /** Alert rules run on every snapshot (the CLI's `--alert-*`, config file); shown as toasts and on the Alerts page. */
  alerts?: AlertSource;
}

export interface Dashboard {
  url: string;
  /** The URL with the token, to open in a browser (same as url on loopback without a token). */
  openUrl: string;
  token: string | undefined;
  status: Status;
  close(): Promise<void>;
}

const CAPTURE_FIX =
  'run as root, or: sudo setcap cap_net_raw,cap_net_admin=eip "$(readlink -f "$(which node)")"';
/** Messages a browser may send per second before it is disconnected. */
const WS_MESSAGES_PER_SECOND = 20;

/** Starts the dashboard server and its traffic pipeline; resolves when it listens. */
export async function startDashboard(options: DashboardOptions = {}): Promise<Dashboard> {
  const host = options.host ?? '127.0.0.1';
  const token = !isLoopback(host) || options.requireToken ? (options.token ?? newToken()) : undefined;
  const intervalMs = options.intervalMs ?? 1000;
  const history = openHistory(options.history);
  const names: NamesOptions = { reverseDns: options.dns !== false, ...options.names };
  const onConnectionEnd = history.recording
    ? (c: EndedConnection) => history.recording!.connectionEnded(c)
    : undefined;
  const { monitor, banner, devices } = options.monitor
    ? { monitor: options.monitor, banner: null, devices: [] as string[] }
    : openMonitor(options, names, onConnectionEnd);
  const status: Status = {
    mode: monitor.mode,
    banner: [banner, history.notice].filter(Boolean).join(' ') || null,
    devices,
    intervalMs,
    version,
    history: history.store !== undefined,
    geo:
      names.geo === false || options.monitor
        ? null
        : {
            text: `${ATTRIBUTION.country} ${ATTRIBUTION.asn}`,
            href: ATTRIBUTION.link.href,
            linkText: ATTRIBUTION.link.text,
          },
  };
  const metrics = new ProcessMetrics({ maxSeries: options.metricsMaxSeries ?? 500 });
  const state = new DashboardState(monitor, status, {
    intervalMs,
    ...(options.alerts && { alerts: options.alerts }),
    onSnapshot: (snapshot) => {
      metrics.observe(snapshot);
      history.recording?.observe(snapshot);
    },
  });
  const app = createApp({
    state,
    host,
    token,
    icons: new IconFinder(),
    clientDir: clientDir(),
    metrics,
    ...(history.store && { history: history.store }),
  });

  const server = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 7777 });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const refuse = (code: number, text: string) => {
      socket.end(`HTTP/1.1 ${code} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== '/ws') return refuse(404, 'Not Found');
    if (!hostAllowed(req.headers.host, host)) return refuse(403, 'Forbidden');
    if (token && !tokenMatches(token, presentedToken({ cookie: req.headers.cookie ?? null }, url))) {
      return refuse(401, 'Unauthorized');
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws));
  });
  const paused = new WeakSet<WebSocket>();
  wss.on('connection', (ws) => {
    send(ws, state.full());
    let window = Date.now();
    let count = 0;
    ws.on('message', (data) => {
      const now = Date.now();
      if (now - window > 1000) {
        window = now;
        count = 0;
      }
      if (++count > WS_MESSAGES_PER_SECOND) return ws.close(1008, 'too many messages');
      let message: { type?: string };
      try {
        message = JSON.parse(String(data)) as { type?: string };
      } catch {
        return ws.close(1003, 'messages are JSON');
      }
      if (message.type === 'pause') paused.add(ws);
      else if (message.type === 'resume') {
        paused.delete(ws);
        send(ws, state.full());
      } else ws.close(1003, 'unknown message');
    });
    ws.on('error', () => ws.terminate());
  });
  state.start((tick) => {
    const text = JSON.stringify(tick);
    for (const ws of wss.clients) if (ws.readyState === ws.OPEN && !paused.has(ws)) ws.send(text);
  });

  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shown}:${port}/`;
  return {
    url,
    openUrl: token ? `${url}?token=${encodeURIComponent(token)}` : url,
    token,
    status,
    async close() {
      state.stop();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      // Pages still open keep connections (requests in flight, keep-alive): closing ends them too.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await closed;
      if (history.recording) {
        const last = monitor.snapshot();
        history.recording.observe(last);
        for (const c of last.connections) history.recording.connectionEnded(c, true);
        history.recording.close();
      }
      history.store?.close();
      monitor.close();
    },
  };
}

/** The built browser app: dist/client next to the bundled server, or the build output when run from source. */
function clientDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'client'), join(here, '..', '..', 'dist', 'client')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[0]!;
}

function send(ws: WebSocket, message: ServerMessage): void {
  ws.send(JSON.stringify(message));
}

/** The history file, recorded or only read; a file that cannot be opened turns history off with a notice. */
function openHistory(options: DashboardOptions['history']): {
  store?: HistoryStore;
  recording?: HistoryRecording;
  notice?: string;
} {
  if (!options) return {};
  const record = options.record !== false;
  try {
    const store = HistoryStore.open({ path: options.path, readonly: !record });
    return { store, ...(record && { recording: new HistoryRecording(store).start() }) };
  } catch (error) {
    return { notice: `History is off: ${error instanceof Error ? error.message : String(error)}.` };
  }
}

function openMonitor(
  options: DashboardOptions,
  names: NamesOptions,
  onConnectionEnd: ((c: EndedConnection) => void) | undefined,
): {
  monitor: TrafficMonitor;
  banner: string | null;
  devices: string[];
} {
  if (options.capture === 'never') {
    return {
      monitor: new SocketTableMonitor({ names }),
      banner: 'Capture is off (--no-capture): TCP traffic from kernel socket counters; UDP is not shown.',
      devices: [],
    };
  }
  try {
    const monitor = CaptureMonitor.open({
      ...(options.devices?.length && { device: options.devices }),
      ...(options.filter && { filter: options.filter }),
      ...(onConnectionEnd && { onConnectionEnd }),
      ...(options.ebpf === false && { connections: false as const }),
      ...(options.readerCpu !== undefined && { readerCpu: options.readerCpu }),
      names,
    });
    const bound = monitor.capture.stats().readerCpu;
    const banner =
      bound && bound.cpu === undefined
        ? `--reader-cpu ${options.readerCpu}: not bound (${bound.reason}).`
        : null;
    return { monitor, banner, devices: [...monitor.capture.devices] };
  } catch (error) {
    const allowed =
      error instanceof CaptureError && (error.code === 'E_PERMISSION' || error.code === 'E_NO_LIBPCAP');
    if (!allowed || options.capture === 'required') throw error;
    const why =
      error.code === 'E_PERMISSION' ? 'Packet capture is not permitted' : 'libpcap is not installed';
    const fix = error.code === 'E_PERMISSION' ? CAPTURE_FIX : 'install libpcap (apt install libpcap0.8)';
    return {
      monitor: new SocketTableMonitor({ names }),
      banner: `${why}: showing TCP traffic from kernel socket counters instead (no UDP, no connections shorter than a refresh). To capture: ${fix}.`,
      devices: [],
    };
  }
}

import { readFileSync } from 'node:fs';
import { CaptureMonitor } from '@netwho/monitor';
import {
  type Health,
  OPENMETRICS_CONTENT_TYPE,
  OtlpExport,
  ProcessMetrics,
  renderOpenMetrics,
} from '@netwho/telemetry';
import type { Command } from 'commander';
import { EventLog } from '../agent/log';
import { isLoopback, parseListen, serveMetrics } from '../agent/metrics-server';
import { type AlertFlags, addAlertOptions, openAlerts } from '../alerts/setup';
import { CliError, Exit, integer } from '../errors';
import { openRecording } from '../history/recording';
import { parseDuration } from '../history/time';
import { addNameOptions, namesFrom } from '../names/options';
import { openMonitor } from '../watch/monitor';

interface AgentOptions extends AlertFlags {
  interface?: string[];
  filter?: string;
  capture?: boolean;
  ebpf?: boolean;
  readerCpu?: number;
  dns: boolean;
  geo: boolean;
  geoip?: string;
  asn?: string;
  metrics: string;
  token?: string;
  tokenFile?: string;
  metricsPid?: boolean;
  maxSeries: number;
  seriesTtl: string;
  db?: string;
  history: boolean;
  otlp?: string;
  log?: string;
}

const TICK_MS = 1000;

export function registerAgent(program: Command): void {
  addAlertOptions(
    addNameOptions(
      program
        .command('agent')
        .description(
          'headless: capture, attribution and history, serving Prometheus /metrics and pushing OTLP',
        )
        .option('-i, --interface <device...>', "capture on these devices (default: the default route's)")
        .option('-f, --filter <bpf>', 'BPF capture filter')
        .option('--no-capture', 'do not capture: TCP traffic from kernel socket counters (no rights needed)')
        .option('--no-ebpf', 'do not load the eBPF owner programs: owners from the socket table only')
        .option(
          '--reader-cpu <cpu>',
          "read packets on this CPU alone, this process's other threads off it (Linux)",
          integer('--reader-cpu', 0, 1023),
        )
        .option(
          '--no-dns',
          'no reverse DNS for history and OTLP logs (names from SNI, Host and DNS answers stay)',
        )
        .option('--metrics <host:port>', '/metrics address; any but loopback needs --token', '127.0.0.1:9464')
        .option('--token <token>', 'require "Authorization: Bearer TOKEN" on /metrics')
        .option('--token-file <file>', 'the token, read from a file (kept out of the process list)')
        .option('--metrics-pid', 'add process_pid to the series (one series per run of a program)')
        .option(
          '--max-series <n>',
          'programs with a series of their own; the rest go to one overflow series',
          integer('--max-series', 1, 100_000),
          500,
        )
        .option('--series-ttl <duration>', 'drop a series idle this long (e.g. 1h, 30m)', '1h')
        .option('--db <file>', 'the history file (default: $XDG_STATE_HOME/netwho/netwho.db)')
        .option('--no-history', 'record no history')
        .option(
          '--otlp <url>',
          'push metrics and connection logs to this OTLP/HTTP endpoint (default: OTEL_EXPORTER_OTLP_ENDPOINT)',
        )
        .option('--log <file>', 'write the event log to this file (SIGHUP re-opens it) instead of stderr'),
    ),
  )
    .addHelpText(
      'after',
      [
        '',
        'Runs until SIGTERM or SIGINT; logs one JSON line per event. OTLP also reads OTEL_EXPORTER_OTLP_HEADERS,',
        'OTEL_RESOURCE_ATTRIBUTES, OTEL_METRIC_EXPORT_INTERVAL and OTEL_SDK_DISABLED. See docs/fleet.md.',
        '',
        'Examples:',
        '  sudo netwho agent',
        '  sudo netwho agent --metrics 0.0.0.0:9464 --token-file /etc/netwho/token',
        '  OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 sudo -E netwho agent --no-history',
      ].join('\n'),
    )
    .action((options: AgentOptions) => runAgent(options));
}

async function runAgent(options: AgentOptions): Promise<void> {
  const listen = parseListen(options.metrics);
  if (options.tokenFile) {
    try {
      options.token = readFileSync(options.tokenFile, 'utf8').trim();
    } catch (error) {
      throw new CliError(`--token-file: ${(error as Error).message}`, Exit.USAGE);
    }
    if (!options.token) throw new CliError(`--token-file ${options.tokenFile} is empty`, Exit.USAGE);
  }
  if (!isLoopback(listen.host) && !options.token)
    throw new CliError(
      `--metrics ${options.metrics} is reachable from other machines: give --token TOKEN`,
      Exit.USAGE,
    );
  const ttl = parseDuration(options.seriesTtl, '--series-ttl');
  let log: EventLog;
  try {
    log = new EventLog(options.log);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(
      `--log ${options.log}: ${(error as Error).message}`,
      code === 'EACCES' ? Exit.PERMISSION : Exit.USAGE,
    );
  }
  const names = namesFrom(options);
  const metrics = new ProcessMetrics({
    maxSeries: options.maxSeries,
    idleTtlMs: ttl,
    withPid: options.metricsPid ?? false,
  });
  const otlp = OtlpExport.fromEnv(metrics, { ...(options.otlp && { endpoint: options.otlp }) });
  const history = openRecording({
    ...(options.db && { db: options.db }),
    history: options.history,
    onError: (error) => log.event('history.error', { message: String(error) }, 'ERROR'),
  });
  if (history.notice) log.event('history.off', { reason: history.notice }, 'WARN');

  const alerts = openAlerts(options, {
    ...(history.recording && { history: history.recording.store }),
    notifyDefault: false, // headless: alerts go to the log and the webhook
  });
  const opened = openMonitor({
    devices: options.interface,
    filter: options.filter,
    capture: options.capture === false ? 'never' : 'auto',
    names,
    ebpf: options.ebpf !== false,
    // A headless agent on a busy server favours CPU: packets in the ring's blocks (up to 2 ms
    // late), as owners come from eBPF at connect time where it runs.
    immediate: false,
    ...(options.readerCpu !== undefined && { readerCpu: options.readerCpu }),
    onConnectionEnd: (c) => {
      history.onConnectionEnd?.(c);
      otlp?.connectionEnded(c);
    },
  });
  if (opened.notice) log.event('capture.fallback', { reason: opened.notice }, 'WARN');
  if (opened.readerCpuUnbound) log.event('capture.reader_cpu', { reason: opened.readerCpuUnbound }, 'WARN');
  const monitor = history.wrap(opened.monitor);
  const capture = opened.monitor instanceof CaptureMonitor ? opened.monitor : undefined;

  const health = (): Health => {
    const { rss, heapUsed } = process.memoryUsage();
    const h: Health = { memory: { rss, heapUsed } };
    if (capture) {
      const c = capture.health();
      const a = capture.attributor.stats();
      h.capture = { delivered: c.delivered, kernelDropped: c.kernelDropped, netwhoDropped: c.netwhoDropped };
      h.attribution = {
        fromEbpf: a.fromKernel,
        fromSocketTable: a.attributed - a.fromKernel,
        unknown: a.unknown,
        dropped: { pending_queue: a.dropped, kernel_waits: a.kernelWaitsDropped },
      };
    }
    const r = history.recording?.stats();
    if (r)
      h.history = { writes: r.writes, writeErrors: r.writeErrors, connectionsDropped: r.connectionsDropped };
    if (otlp) {
      const o = otlp.stats();
      h.otlp = { exports: o.exports, failures: o.failures, droppedLogs: o.droppedLogs };
    }
    return h;
  };

  let server: Awaited<ReturnType<typeof serveMetrics>>;
  try {
    server = await serveMetrics(listen, options.token, () => ({
      body: renderOpenMetrics(metrics, health()),
      contentType: OPENMETRICS_CONTENT_TYPE,
    }));
  } catch (error) {
    history.close(opened.monitor);
    opened.monitor.close();
    throw error;
  }
  log.event('agent.start', {
    mode: monitor.mode,
    metrics: server.url,
    token: options.token !== undefined,
    history: history.recording?.store.path ?? null,
    otlp: otlp?.endpoint ?? null,
    ebpf: capture?.ownerSources().ebpf ?? false,
    alertRules: alerts?.rules.length ?? 0,
    ...(capture?.ebpfReason && { ebpfReason: capture.ebpfReason }),
    ...(capture && capture.ebpfMissing.length > 0 && { ebpfMissing: capture.ebpfMissing }),
  });

  // Every second: one snapshot (history observes it too), the counters, and events worth a line.
  let last = { drops: 0, otlpFailures: 0 };
  monitor.snapshot();
  const tick = setInterval(() => {
    try {
      const snapshot = monitor.snapshot();
      metrics.observe(snapshot);
      for (const alert of alerts?.observe(snapshot) ?? []) log.event('alert', { ...alert }, 'WARN');
      const h = health();
      const drops = (h.capture?.kernelDropped ?? 0) + (h.capture?.netwhoDropped ?? 0);
      if (drops > last.drops) log.event('capture.drops', { ...h.capture, new: drops - last.drops }, 'WARN');
      const failures = h.otlp?.failures ?? 0;
      if (failures > last.otlpFailures)
        log.event(
          'otlp.error',
          { failures, message: otlp?.stats().lastError ?? null, droppedLogs: h.otlp?.droppedLogs },
          'WARN',
        );
      last = { drops, otlpFailures: failures };
    } catch (error) {
      log.event('agent.error', { message: error instanceof Error ? error.message : String(error) }, 'ERROR');
    }
  }, TICK_MS);

  const onHup = () => {
    log.reopen();
    log.event('log.reopen');
  };
  process.on('SIGHUP', onHup);
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  clearInterval(tick);
  process.off('SIGHUP', onHup);
  await server.close();
  history.close(opened.monitor);
  await otlp?.shutdown();
  await alerts?.close();
  opened.monitor.close();
  log.event('agent.stop', { signal, ...health(), ...(alerts && { alerts: alerts.stats() }) });
  log.close();
}

import { hostname } from 'node:os';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { type MeteredProcess, type ProcessMetrics, processAttributes } from './process-metrics';
import { version } from './version';

/** An ended connection, as @netwho/monitor's EndedConnection reports it (structurally). */
export interface OtlpConnection {
  protocol: string;
  local: { address: string; port: number };
  remote: { address: string; port: number };
  label: { status: 'known'; process: MeteredProcess } | { status: 'pending' | 'unknown' };
  bytesIn: number;
  bytesOut: number;
  firstSeen: number;
  lastSeen: number;
  remoteName?: string;
  remoteNameSource?: string;
  country?: string;
  asn?: number;
  asOrg?: string;
}

export interface OtlpOptions {
  /** Where OTEL_* settings come from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The collector's base URL (default OTEL_EXPORTER_OTLP_ENDPOINT); /v1/metrics and /v1/logs are added. */
  endpoint?: string;
  /** Sent with every export (default OTEL_EXPORTER_OTLP_HEADERS, `k=v,k2=v2`). */
  headers?: Record<string, string>;
  /** Metric export interval (default OTEL_METRIC_EXPORT_INTERVAL, else 60,000 ms). */
  intervalMs?: number;
  /** Log records waiting for the collector at most (default 2,048); more are dropped and counted. */
  maxQueuedLogs?: number;
  /** Each export's timeout (default 10,000 ms). */
  timeoutMs?: number;
}

export interface OtlpStats {
  exports: number;
  failures: number;
  /** Connection log records dropped: queue full (collector down or slow) or in a failed export. */
  droppedLogs: number;
  lastError?: string;
}

/**
 * Pushes the per-program counters (process.network.io, cumulative) and one log record per ended
 * connection to an OpenTelemetry collector over OTLP/HTTP, with the official JS SDK. Exports run
 * in the background: a collector that is down or slow costs retries (the SDK's, with backoff) and
 * counted drops, never a wait in the caller.
 */
export class OtlpExport {
  readonly endpoint: string;
  private readonly meters: MeterProvider;
  private readonly logs: LoggerProvider;
  private readonly logger;
  private readonly maxQueued: number;
  private queued = 0;
  private readonly counts: OtlpStats = { exports: 0, failures: 0, droppedLogs: 0 };

  /**
   * From the standard variables: undefined when OTEL_SDK_DISABLED=true or no endpoint is set
   * (OTEL_EXPORTER_OTLP_ENDPOINT or options.endpoint).
   */
  static fromEnv(metrics: ProcessMetrics, options: OtlpOptions = {}): OtlpExport | undefined {
    const env = options.env ?? process.env;
    if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
    const endpoint = options.endpoint ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
    if (!endpoint) return undefined;
    return new OtlpExport(metrics, { ...options, endpoint });
  }

  constructor(metrics: ProcessMetrics, options: OtlpOptions & { endpoint: string }) {
    const env = options.env ?? process.env;
    const base = options.endpoint.replace(/\/+$/, '');
    this.endpoint = base;
    const headers = options.headers ?? parseHeaders(env.OTEL_EXPORTER_OTLP_HEADERS);
    const timeoutMillis = options.timeoutMs ?? 10_000;
    const intervalMs = options.intervalMs ?? (Number(env.OTEL_METRIC_EXPORT_INTERVAL) || 60_000);
    this.maxQueued = options.maxQueuedLogs ?? 2048;
    // OTEL_RESOURCE_ATTRIBUTES has the headers' format; OTEL_SERVICE_NAME wins over service.name in it.
    const resource = resourceFromAttributes({
      'service.name': 'netwho',
      'service.version': version,
      'host.name': hostname(),
      ...parseHeaders(env.OTEL_RESOURCE_ATTRIBUTES),
      ...(env.OTEL_SERVICE_NAME && { 'service.name': env.OTEL_SERVICE_NAME }),
    });

    const metricExporter = this.counted(
      new OTLPMetricExporter({ url: `${base}/v1/metrics`, headers, timeoutMillis }),
    ) as PushMetricExporter;
    this.meters = new MeterProvider({
      resource,
      readers: [
        new PeriodicExportingMetricReader({
          exporter: metricExporter,
          exportIntervalMillis: intervalMs,
          exportTimeoutMillis: Math.min(intervalMs, timeoutMillis),
        }),
      ],
    });
    const meter = this.meters.getMeter('netwho', version);
    const io = meter.createObservableCounter('process.network.io', {
      unit: 'By',
      description: 'Bytes each program moved on the network.',
    });
    io.addCallback((result) => {
      for (const s of metrics.all()) {
        result.observe(s.receive, { ...s.attributes, 'network.io.direction': 'receive' });
        result.observe(s.transmit, { ...s.attributes, 'network.io.direction': 'transmit' });
      }
    });
    const open = meter.createObservableGauge('netwho.process.open_connections', {
      unit: '{connection}',
      description: 'Connections each program has open now.',
    });
    open.addCallback((result) => {
      for (const s of metrics.all()) result.observe(s.connections, s.attributes);
    });

    const logExporter = this.counted(
      new OTLPLogExporter({ url: `${base}/v1/logs`, headers, timeoutMillis }),
      true,
    );
    this.logs = new LoggerProvider({
      resource,
      processors: [
        new BatchLogRecordProcessor({
          exporter: logExporter as LogRecordExporter,
          maxQueueSize: this.maxQueued,
          maxExportBatchSize: Math.min(512, this.maxQueued),
          scheduledDelayMillis: 1000,
          exportTimeoutMillis: timeoutMillis,
        }),
      ],
    });
    this.logger = this.logs.getLogger('netwho', version);
  }

  /** One log record for a connection that ended (OpenTelemetry network and process attributes). */
  connectionEnded(c: OtlpConnection): void {
    if (this.queued >= this.maxQueued) {
      this.counts.droppedLogs++;
      return;
    }
    this.queued++;
    const process = c.label.status === 'known' ? c.label.process : undefined;
    this.logger.emit({
      eventName: 'netwho.connection.end',
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      body: 'connection ended',
      timestamp: c.lastSeen,
      attributes: {
        'network.transport': c.protocol.toLowerCase(),
        'network.local.address': c.local.address,
        'network.local.port': c.local.port,
        'network.peer.address': c.remote.address,
        'network.peer.port': c.remote.port,
        ...(process && { 'process.pid': process.pid }),
        ...processAttributes(process, false),
        'netwho.connection.start': new Date(c.firstSeen).toISOString(),
        'netwho.connection.bytes_received': c.bytesIn,
        'netwho.connection.bytes_sent': c.bytesOut,
        ...(c.remoteName && { 'netwho.remote.name': c.remoteName }),
        ...(c.remoteNameSource && { 'netwho.remote.name_source': c.remoteNameSource }),
        // geo.* are OpenTelemetry's geo attributes; the AS has no semantic convention yet.
        ...(c.country && { 'geo.country.iso_code': c.country }),
        ...(c.asn !== undefined && { 'netwho.remote.as.number': c.asn }),
        ...(c.asOrg && { 'netwho.remote.as.organization': c.asOrg }),
      },
    });
  }

  stats(): OtlpStats {
    return { ...this.counts };
  }

  /** Exports what is left (within the timeout) and stops. */
  async shutdown(): Promise<void> {
    await Promise.allSettled([this.meters.shutdown(), this.logs.shutdown()]);
  }

  /** An exporter that counts its results (and, for logs, what left the queue and what was lost). */
  private counted<
    E extends { export(items: never, done: (r: { code: number; error?: Error }) => void): void },
  >(exporter: E, logs = false): E {
    const original = exporter.export.bind(exporter);
    const wrapped = (items: unknown, done: (r: { code: number; error?: Error }) => void) =>
      original(items as never, (result) => {
        const n = logs && Array.isArray(items) ? items.length : 0;
        this.queued = Math.max(0, this.queued - n);
        if (result.code === 0) this.counts.exports++;
        else {
          this.counts.failures++;
          this.counts.droppedLogs += n;
          if (result.error) this.counts.lastError = result.error.message;
        }
        done(result);
      });
    (exporter as { export: unknown }).export = wrapped;
    return exporter;
  }
}

/** OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES: `k=v,k2=v2`, percent-encoded (OpenTelemetry SDK configuration). */
export function parseHeaders(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? '').split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    try {
      out[decodeURIComponent(part.slice(0, i).trim())] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      // A malformed pair is skipped, as the SDKs do.
    }
  }
  return out;
}

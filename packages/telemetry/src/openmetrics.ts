import type { ProcessMetrics } from './process-metrics';

/**
 * The OpenMetrics text exposition (https://github.com/prometheus/OpenMetrics/blob/main/specification/OpenMetrics.md)
 * of the per-program counters and of netwho's own health. OpenTelemetry names are turned into
 * Prometheus ones as the OpenTelemetry-to-Prometheus compatibility spec says: dots become
 * underscores, the unit is a suffix (By -> bytes), counters end in _total.
 */
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** netwho's own counters, all cumulative since the start (they never go down). */
export interface Health {
  capture?: { delivered: number; kernelDropped: number; netwhoDropped: number };
  /** Flows labelled per source, and flows given up as unknown per reason. */
  attribution?: {
    fromEbpf: number;
    fromSocketTable: number;
    unknown: Readonly<Record<string, number>>;
    /** Work given up for lack of room, by queue (e.g. pending_queue, kernel_waits). */
    dropped?: Readonly<Record<string, number>>;
  };
  history?: { writes: number; writeErrors: number; connectionsDropped: number };
  otlp?: { exports: number; failures: number; droppedLogs: number };
  /** This process's own memory (process.memoryUsage()): resident set and V8 heap in use, bytes. */
  memory?: { rss: number; heapUsed: number };
}

export function renderOpenMetrics(metrics: ProcessMetrics, health: Health = {}): string {
  const out: string[] = [];
  const family = (name: string, type: string, help: string, unit?: string) => {
    out.push(`# TYPE ${name} ${type}`);
    if (unit) out.push(`# UNIT ${name} ${unit}`);
    out.push(`# HELP ${name} ${help}`);
  };
  const series = metrics.all();

  family(
    'process_network_io_bytes',
    'counter',
    'Bytes each program moved on the network (OpenTelemetry process.network.io).',
    'bytes',
  );
  for (const s of series) {
    const labels = labelsOf(s.attributes);
    out.push(`process_network_io_bytes_total{network_io_direction="receive",${labels}} ${s.receive}`);
    out.push(`process_network_io_bytes_total{network_io_direction="transmit",${labels}} ${s.transmit}`);
  }
  family('netwho_process_open_connections', 'gauge', 'Connections each program has open now.');
  for (const s of series)
    out.push(`netwho_process_open_connections{${labelsOf(s.attributes)}} ${s.connections}`);

  family('netwho_metrics_series', 'gauge', 'Programs with a series of their own (at most the cap).');
  out.push(`netwho_metrics_series ${metrics.size}`);
  family(
    'netwho_metrics_overflow_programs',
    'counter',
    'Programs counted in the overflow series because the cap was reached.',
  );
  out.push(`netwho_metrics_overflow_programs_total ${metrics.overflowed}`);

  if (health.capture) {
    const c = health.capture;
    family(
      'netwho_capture_packets',
      'counter',
      'Captured packets: delivered, dropped by the kernel (ring full), dropped by netwho.',
    );
    out.push(`netwho_capture_packets_total{outcome="delivered"} ${c.delivered}`);
    out.push(`netwho_capture_packets_total{outcome="kernel_dropped"} ${c.kernelDropped}`);
    out.push(`netwho_capture_packets_total{outcome="netwho_dropped"} ${c.netwhoDropped}`);
  }
  if (health.attribution) {
    const a = health.attribution;
    family(
      'netwho_attribution_flows',
      'counter',
      'Flows given a program, by where the answer came from, or unknown, by why.',
    );
    out.push(`netwho_attribution_flows_total{outcome="ebpf"} ${a.fromEbpf}`);
    out.push(`netwho_attribution_flows_total{outcome="socket_table"} ${a.fromSocketTable}`);
    for (const [reason, n] of Object.entries(a.unknown).sort())
      out.push(
        `netwho_attribution_flows_total{outcome="unknown_${escapeLabel(reason).replace(/-/g, '_')}"} ${n}`,
      );
    if (a.dropped) {
      family(
        'netwho_attribution_dropped',
        'counter',
        'Attribution work given up for lack of room: lookups the full pending queue refused, accepted flows not waited for in eBPF.',
      );
      for (const [queue, n] of Object.entries(a.dropped).sort())
        out.push(`netwho_attribution_dropped_total{queue="${escapeLabel(queue)}"} ${n}`);
    }
  }
  if (health.history) {
    const h = health.history;
    family(
      'netwho_history_writes',
      'counter',
      'Intervals written to the history store, and writes that failed.',
    );
    out.push(`netwho_history_writes_total{result="ok"} ${h.writes}`);
    out.push(`netwho_history_writes_total{result="error"} ${h.writeErrors}`);
    family(
      'netwho_history_connections_dropped',
      'counter',
      'Ended connections not kept (over the per-interval bound).',
    );
    out.push(`netwho_history_connections_dropped_total ${h.connectionsDropped}`);
  }
  if (health.memory) {
    // OpenTelemetry's process.memory.usage and v8js.memory.heap.used, in Prometheus form.
    family('process_memory_usage_bytes', 'gauge', 'Resident memory of this netwho process.', 'bytes');
    out.push(`process_memory_usage_bytes ${health.memory.rss}`);
    family('v8js_memory_heap_used_bytes', 'gauge', 'V8 heap in use by this netwho process.', 'bytes');
    out.push(`v8js_memory_heap_used_bytes ${health.memory.heapUsed}`);
  }
  if (health.otlp) {
    const o = health.otlp;
    family('netwho_otlp_exports', 'counter', 'OTLP exports, by result.');
    out.push(`netwho_otlp_exports_total{result="ok"} ${o.exports}`);
    out.push(`netwho_otlp_exports_total{result="error"} ${o.failures}`);
    family(
      'netwho_otlp_dropped_logs',
      'counter',
      'Connection log records dropped (collector down or slow, queue full).',
    );
    out.push(`netwho_otlp_dropped_logs_total ${o.droppedLogs}`);
  }
  out.push('# EOF');
  return `${out.join('\n')}\n`;
}

/** Attributes as labels: dots to underscores (process.executable.name -> process_executable_name). */
function labelsOf(attributes: Readonly<Record<string, string>>): string {
  return Object.keys(attributes)
    .sort()
    .map((k) => `${k.replace(/[^a-zA-Z0-9_]/g, '_')}="${escapeLabel(attributes[k]!)}"`)
    .join(',');
}

/** Label values: backslash, double quote and newline escaped (OpenMetrics, "ABNF": escaped-string). */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

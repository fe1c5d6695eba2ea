import type { ProgramRow } from '@netwho/attributor';

/**
 * OpenMetrics text for Prometheus: per-program byte counters and open connections. Labels are
 * bounded: the `topN` programs by total bytes get their own series, the rest are summed under
 * program="other". Pure.
 */
export function openMetrics(programs: readonly ProgramRow[], topN: number, mode: string): string {
  const ranked = [...programs].sort((a, b) => b.bytesIn + b.bytesOut - (a.bytesIn + a.bytesOut));
  const rows = ranked.slice(0, topN).map((p) => ({
    program: p.process?.name ?? 'unknown',
    pid: p.process ? String(p.process.pid) : '',
    ...p,
  }));
  const rest = ranked.slice(topN);
  if (rest.length > 0) {
    rows.push({
      ...rest[0]!,
      program: 'other',
      pid: '',
      bytesIn: rest.reduce((n, p) => n + p.bytesIn, 0),
      bytesOut: rest.reduce((n, p) => n + p.bytesOut, 0),
      connections: rest.reduce((n, p) => n + p.connections, 0),
    });
  }
  const label = (r: { program: string; pid: string }) => `program="${escapeLabel(r.program)}",pid="${r.pid}"`;
  const lines = [
    '# TYPE netwho_received_bytes counter',
    '# UNIT netwho_received_bytes bytes',
    '# HELP netwho_received_bytes Bytes received by the program since the dashboard started.',
    ...rows.map((r) => `netwho_received_bytes_total{${label(r)}} ${r.bytesIn}`),
    '# TYPE netwho_sent_bytes counter',
    '# UNIT netwho_sent_bytes bytes',
    '# HELP netwho_sent_bytes Bytes sent by the program since the dashboard started.',
    ...rows.map((r) => `netwho_sent_bytes_total{${label(r)}} ${r.bytesOut}`),
    '# TYPE netwho_connections gauge',
    '# HELP netwho_connections Open connections of the program.',
    ...rows.map((r) => `netwho_connections{${label(r)}} ${r.connections}`),
    '# TYPE netwho_capture info',
    '# HELP netwho_capture How traffic is measured: capture or socket-table.',
    `netwho_capture_info{mode="${mode}"} 1`,
    '# EOF',
  ];
  return `${lines.join('\n')}\n`;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

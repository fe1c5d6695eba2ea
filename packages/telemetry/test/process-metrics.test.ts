import { describe, expect, it } from 'vitest';
import { type MeteredProcess, OVERFLOW, ProcessMetrics, renderOpenMetrics } from '../src';

const proc = (pid: number, name: string, extra: Partial<MeteredProcess> = {}): MeteredProcess => ({
  pid,
  name,
  path: `/usr/bin/${name}`,
  ...extra,
});
const row = (p: MeteredProcess | undefined, bytesIn: number, bytesOut: number, connections = 0) => ({
  key: p ? `pid:${p.pid}` : 'unknown',
  ...(p && { process: p }),
  bytesIn,
  bytesOut,
  connections,
});
const value = (m: ProcessMetrics, name: string) =>
  m.all().find((s) => s.attributes['process.executable.name'] === name);

describe('ProcessMetrics', () => {
  it('counts a program over all its runs, without pids, and never goes down when a run exits', () => {
    const m = new ProcessMetrics();
    const a = proc(1, 'curl');
    const b = proc(2, 'curl');
    m.observe({ at: 0, programs: [row(a, 100, 10, 1)] });
    m.observe({ at: 1000, programs: [row(a, 300, 20, 1), row(b, 50, 5, 1)] });
    expect(value(m, 'curl')).toMatchObject({ receive: 350, transmit: 25, connections: 2 });
    // Run 1 ends: the monitor forgets it; the series keeps what it counted.
    m.observe({ at: 2000, programs: [row(b, 60, 5)] });
    expect(value(m, 'curl')).toMatchObject({ receive: 360, transmit: 25, connections: 0 });
    expect(value(m, 'curl')!.attributes).toEqual({
      'process.executable.name': 'curl',
      'process.executable.path': '/usr/bin/curl',
    });
    expect(m.size).toBe(1);
  });

  it('gauges the open connections, not those closing, when the snapshot tells them apart', () => {
    const m = new ProcessMetrics();
    const a = proc(1, 'curl');
    m.observe({ at: 0, programs: [{ ...row(a, 100, 10, 3), openConnections: 1 }] });
    expect(value(m, 'curl')).toMatchObject({ connections: 1 });
    // Only closing ones left: none open, and the series stays (it still holds connections).
    m.observe({ at: 1000, programs: [{ ...row(a, 100, 10, 2), openConnections: 0 }] });
    expect(value(m, 'curl')).toMatchObject({ connections: 0, receive: 100 });
  });

  it('gives each run its own series with withPid', () => {
    const m = new ProcessMetrics({ withPid: true });
    m.observe({ at: 0, programs: [row(proc(1, 'curl'), 1, 1), row(proc(2, 'curl'), 1, 1)] });
    expect(m.all().map((s) => s.attributes['process.pid'])).toEqual(['1', '2']);
  });

  it('names the unit and container, and the traffic nobody owns', () => {
    const m = new ProcessMetrics();
    const nginx = proc(3, 'nginx', {
      cgroup: { unit: 'nginx.service', container: { runtime: 'docker', id: 'c'.repeat(64), name: 'web' } },
    });
    m.observe({ at: 0, programs: [row(nginx, 5, 6), row(undefined, 7, 0)] });
    expect(value(m, 'nginx')!.attributes).toMatchObject({
      'systemd.unit': 'nginx.service',
      'container.id': 'c'.repeat(64),
      'container.name': 'web',
      'container.runtime': 'docker',
    });
    expect(value(m, 'unknown')).toMatchObject({ receive: 7 });
  });

  it('caps the series: programs past the cap go to one overflow series that only grows', () => {
    const m = new ProcessMetrics({ maxSeries: 2 });
    let total = 0;
    for (let t = 0; t < 10; t++) {
      const programs = Array.from({ length: 5 }, (_, i) => row(proc(100 + i, `p${i}`), (t + 1) * 10, 0));
      m.observe({ at: t * 1000, programs });
      total += 5 * 10;
      const overflow = m.all().find((s) => s.attributes === OVERFLOW)!;
      const sum = m.all().reduce((n, s) => n + s.receive, 0);
      expect(sum).toBe(total); // nothing lost
      expect(overflow.receive).toBe((t + 1) * 30); // p2..p4, growing every time
    }
    expect(m.size).toBe(2);
    expect(m.overflowed).toBeGreaterThan(0);
  });

  it('drops a series idle past its TTL, and its slot goes to the next program', () => {
    const m = new ProcessMetrics({ maxSeries: 1, idleTtlMs: 5000 });
    m.observe({ at: 0, programs: [row(proc(1, 'old'), 10, 0)] });
    m.observe({ at: 6000, programs: [] });
    expect(m.all()).toEqual([]);
    expect(m.expired).toBe(1);
    m.observe({ at: 7000, programs: [row(proc(2, 'new'), 5, 0)] });
    expect(m.all().map((s) => s.attributes['process.executable.name'])).toEqual(['new']);
  });

  it('renders OpenMetrics with OpenTelemetry names, escaped labels and an EOF', () => {
    const m = new ProcessMetrics();
    m.observe({ at: 0, programs: [row(proc(1, 'we"ird\\name'), 10, 20, 1)] });
    const text = renderOpenMetrics(m, {
      capture: { delivered: 5, kernelDropped: 1, netwhoDropped: 0 },
      attribution: {
        fromEbpf: 3,
        fromSocketTable: 1,
        unknown: { 'not-found': 2 },
        dropped: { pending_queue: 0, kernel_waits: 4 },
      },
      memory: { rss: 1000, heapUsed: 500 },
    });
    expect(text).toContain('# UNIT process_memory_usage_bytes bytes\n');
    expect(text).toContain('v8js_memory_heap_used_bytes 500');
    expect(text).toContain('# TYPE process_network_io_bytes counter\n# UNIT process_network_io_bytes bytes');
    expect(text).toContain(
      'process_network_io_bytes_total{network_io_direction="receive",process_executable_name="we\\"ird\\\\name",process_executable_path="/usr/bin/we\\"ird\\\\name"} 10',
    );
    expect(text).toContain('network_io_direction="transmit"');
    expect(text).toContain('netwho_capture_packets_total{outcome="kernel_dropped"} 1');
    expect(text).toContain('netwho_attribution_flows_total{outcome="unknown_not_found"} 2');
    expect(text).toContain('# TYPE netwho_attribution_dropped counter\n');
    expect(text).toContain('netwho_attribution_dropped_total{queue="kernel_waits"} 4');
    expect(text.endsWith('# EOF\n')).toBe(true);
  });
});

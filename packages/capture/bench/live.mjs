// Live part of the capture benchmark: a C sender floods loopback at rising rates, and in the same
// run, one after another at each rate: tcpdump writing a file, LiveCapture + decode + flow table
// (bench/live-child.mjs), and `netwho capture -w` with attribution. Each tool's packets captured
// and dropped come from its own report; CPU time is what the tool's process used from the moment
// it was capturing until it exited (bash `times` less /proc/PID/stat before the send), divided by
// the packets it captured.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const here = import.meta.dirname;
const CLI = join(here, '..', '..', '..', 'apps', 'cli', 'dist', 'netwho.js');
const FILTER = 'udp dst port 9';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Builds the sender (bench/udp-sender.c) with the system's C compiler. */
function buildSender(dir) {
  const out = join(dir, 'udp-sender');
  const r = spawnSync('cc', ['-O2', '-o', out, join(here, 'udp-sender.c')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot build the sender: ${r.stderr}`);
  return out;
}

function send(sender, rate, inject = true) {
  const r = spawnSync(sender, ['9', String(rate), '1000', '64', ...(inject ? ['inject'] : [])], {
    encoding: 'utf8',
  });
  const m = /sent (\d+) seconds ([\d.]+) cpu ([\d.]+)/.exec(r.stdout);
  if (!m) throw new Error(`sender failed: ${r.stderr}`);
  return { sent: Number(m[1]), senderCpu: Number(m[3]) };
}

/**
 * Runs `argv` under bash so that its CPU time is reported (`times`), waits until `ready()` says it
 * captures, sends, lets it catch up, stops it with SIGINT; returns its output and CPU seconds.
 */
async function runTool(argv, sender, rate, ready, inject = true, beforeStop = () => {}) {
  const child = spawn('bash', ['-c', '"$@"; times', '_', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  await ready(() => stdout + stderr);
  const tool = Number(
    spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')[0],
  );
  const startup = cpuSeconds(tool);
  const { sent, senderCpu } = send(sender, rate, inject);
  // Longer than any tool holds a block that is not full (tcpdump: libpcap's 1 s timeout).
  await sleep(1500);
  const before = beforeStop();
  process.kill(tool, 'SIGINT');
  await once(child, 'exit');
  // `times` prints the shell's, then its children's "XmY.YYYs XmY.YYYs" (user, system).
  const lines = stdout.trim().split('\n');
  const [user, system] = lines
    .at(-1)
    .split(/\s+/)
    .map((t) => {
      const m = /(\d+)m([\d.]+)s/.exec(t);
      return Number(m[1]) * 60 + Number(m[2]);
    });
  return {
    sent,
    senderCpu,
    stdout: lines.slice(0, -2).join('\n'),
    stderr,
    cpu: user + system - startup,
    before,
  };
}

/** CPU seconds a process has used so far (/proc/PID/stat utime + stime, in clock ticks of 1/100 s). */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const waitFor =
  (pattern, ms = 10_000) =>
  async (output) => {
    const deadline = Date.now() + ms;
    while (!pattern.test(output()) && Date.now() < deadline) await sleep(20);
    await sleep(200);
  };

async function tcpdump(sender, rate, dir, immediate = false) {
  const r = await runTool(
    [
      'tcpdump',
      '-i',
      'lo',
      '-n',
      '-s',
      '128',
      '-B',
      '65536',
      ...(immediate ? ['--immediate-mode'] : []),
      '-w',
      join(dir, 'tcpdump.pcap'),
      FILTER,
    ],
    sender,
    rate,
    waitFor(/listening on/),
  );
  const captured = Number(/(\d+) packets? captured/.exec(r.stderr)?.[1] ?? Number.NaN);
  const dropped = Number(/(\d+) packets? dropped by kernel/.exec(r.stderr)?.[1] ?? Number.NaN);
  return { sent: r.sent, captured, dropped, cpu: r.cpu };
}

async function library(sender, rate, immediate = false) {
  const r = await runTool(
    [process.execPath, join(here, 'live-child.mjs'), FILTER, ...(immediate ? ['immediate'] : [])],
    sender,
    rate,
    waitFor(/ready/),
  );
  const result = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{')) ?? '{}');
  return {
    sent: r.sent,
    captured: result.captured,
    dropped: result.dropped,
    cpu: r.cpu,
    backend: result.backend,
  };
}

async function cli(sender, rate, dir, { ebpf = true, inject = true, beforeStop, filter = FILTER } = {}) {
  const file = join(dir, 'netwho.pcapng');
  // The CLI says nothing when it starts; a second is more than it needs to open the capture.
  const r = await runTool(
    [
      process.execPath,
      CLI,
      'capture',
      '-i',
      'lo',
      '-s',
      '128',
      '-B',
      '65536',
      '-w',
      file,
      '--json',
      ...(ebpf ? [] : ['--no-ebpf']),
      ...filter.split(' '),
    ],
    sender,
    rate,
    () => sleep(1500),
    inject,
    beforeStop,
  );
  const summary = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{')) ?? '{}');
  const lo = summary.devices?.[0] ?? {};
  return {
    sent: r.sent,
    captured: summary.written,
    dropped: (lo.kernelDropped ?? Number.NaN) + (lo.netwhoDropped ?? 0),
    labelled: summary.labelled,
    cpu: r.cpu,
    ebpf: summary.owners?.ebpf,
    before: r.before,
    senderCpu: r.senderCpu,
  };
}

/**
 * Time the owner programs ran and how often, from the kernel's BPF statistics (bpftool, while
 * kernel.bpf_stats_enabled is 1); undefined without bpftool.
 */
function programTime() {
  const r = spawnSync('bpftool', ['--json', 'prog', 'show', 'name', 'netwho_owners'], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  let ns = 0;
  let runs = 0;
  for (const p of JSON.parse(r.stdout)) {
    ns += p.run_time_ns ?? 0;
    runs += p.run_cnt ?? 0;
  }
  return { ns, runs };
}

const RATES = process.env.RATES
  ? process.env.RATES.split(',').map(Number)
  : [10_000, 100_000, 200_000, 300_000, 400_000, 500_000, 0];

export async function liveBenchmark() {
  const dir = mkdtempSync(join(tmpdir(), 'netwho-live-bench-'));
  try {
    const sender = buildSender(dir);
    const tools = [
      ['tcpdump -w', (rate) => tcpdump(sender, rate, dir)],
      ['LiveCapture + decode + flows', (rate) => library(sender, rate)],
      // Each packet handed over at once (TPACKET_V2), as a monitor wants: against tcpdump's own.
      ['tcpdump --immediate-mode -w', (rate) => tcpdump(sender, rate, dir, true)],
      ['LiveCapture immediate + decode', (rate) => library(sender, rate, true)],
      ['netwho capture -w (attributed)', (rate) => cli(sender, rate, dir)],
      ['netwho capture -w --no-ebpf', (rate) => cli(sender, rate, dir, { ebpf: false })],
    ];
    const best = new Map(tools.map(([name]) => [name, 0]));
    const atMax = new Map();
    console.log(
      '\nlive, loopback, 64-byte UDP datagrams for 1 s from a C sender (frames injected on lo), each tool in turn:',
    );
    console.log(
      `  ${'rate'.padEnd(9)} ${'tool'.padEnd(32)} ${'sent'.padStart(8)} ${'captured'.padStart(9)} ${'dropped'.padStart(8)}  CPU/packet`,
    );
    for (const rate of RATES) {
      for (const [name, run] of tools) {
        const r = await run(rate);
        const lossless = r.captured === r.sent && r.dropped === 0;
        if (lossless && rate !== 0) best.set(name, Math.max(best.get(name), rate));
        if (rate === 0) atMax.set(name, r);
        const perPacket = r.captured > 0 ? `${((r.cpu / r.captured) * 1e6).toFixed(2)} us` : '-';
        const label = rate === 0 ? 'max' : `${rate / 1000}k/s`;
        console.log(
          `  ${label.padEnd(9)} ${name.padEnd(32)} ${String(r.sent).padStart(8)} ${String(r.captured).padStart(9)} ${String(r.dropped).padStart(8)}  ${perPacket}${lossless ? '' : '  LOSS'}`,
        );
      }
    }
    console.log('\n  highest rate with zero loss (packets in the 1 s run):');
    for (const [name, value] of best) {
      // Immediate delivery against tcpdump's immediate mode, eBPF on against off, the rest against plain tcpdump.
      const against = name.includes('immediate')
        ? 'tcpdump --immediate-mode -w'
        : name === 'netwho capture -w (attributed)'
          ? 'netwho capture -w --no-ebpf'
          : 'tcpdump -w';
      const base = best.get(against);
      const ratio = name.startsWith('tcpdump') || !base ? '' : `  ${(value / base).toFixed(2)}x ${against}`;
      console.log(`    ${name.padEnd(32)} ${String(value).padStart(8)}/s${ratio}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What the eBPF owner programs cost: `netwho capture -w` with them and with --no-ebpf, turn
 * about, at full speed, from two senders sharing the machine with the capture: injected frames
 * (socket-send runs once per frame, for the packet socket, and returns at its first test), and
 * a real UDP socket, for which it records (or finds fresh) the socket on every datagram, in the
 * sender's task. Their cost shows in what the sender manages to send and we capture; their own
 * time comes from the kernel's BPF statistics.
 */
export async function ebpfCostBenchmark(runs = 9, idleRuns = 15) {
  const dir = mkdtempSync(join(tmpdir(), 'netwho-ebpf-bench-'));
  const stats = spawnSync('sysctl', ['-n', 'kernel.bpf_stats_enabled'], { encoding: 'utf8' }).stdout?.trim();
  const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))];
  const median = (values) => quantile(values, 0.5);
  /** The median and, in brackets, the middle half of the runs (first to third quartile). */
  const spread = (values, digits = 0) =>
    `${median(values).toFixed(digits)} [${quantile(values, 0.25).toFixed(digits)}-${quantile(values, 0.75).toFixed(digits)}]`;
  try {
    const sender = buildSender(dir);
    console.log(
      `\neBPF owners on and off: netwho capture -w at full speed for 1 s, ${runs} runs each, turn about (medians [quartiles]):`,
    );
    for (const [what, inject] of [
      ['injected frames (a packet socket: the programs return at once)', true],
      ['a UDP socket (the programs find the socket fresh in its storage)', false],
    ]) {
      const results = { on: [], off: [] };
      for (let i = 0; i < runs; i++) {
        for (const ebpf of i % 2 === 0 ? [true, false] : [false, true]) {
          const r = await cli(sender, 0, dir, { ebpf, inject });
          if (ebpf && r.ebpf !== true) throw new Error('eBPF did not load: run the benchmark as root');
          results[ebpf ? 'on' : 'off'].push(r);
        }
      }
      console.log(`  ${what}:`);
      const row = (name, rs) => {
        const lossless = rs.filter((r) => r.captured === r.sent && r.dropped === 0).length;
        const perPacket = median(rs.map((r) => (r.cpu / r.captured) * 1e6));
        const senderNs = rs.map((r) => (r.senderCpu / r.sent) * 1e9);
        const senderPerPacket = median(senderNs);
        console.log(
          `    ${name.padEnd(12)} captured ${spread(rs.map((r) => r.captured))}/s (sent as many: ${lossless}/${rs.length} runs)  capture's CPU/packet ${perPacket.toFixed(2)} us  sender's CPU/datagram ${spread(senderNs)} ns`,
        );
        return { captured: median(rs.map((r) => r.captured)), sender: senderPerPacket };
      };
      const on = row('with eBPF', results.on);
      const off = row('--no-ebpf', results.off);
      const change = (a, b) => `${(((a - b) / b) * 100).toFixed(1)}%`;
      console.log(
        `    with eBPF: captured ${change(on.captured, off.captured)}, the sender's CPU per datagram ${change(on.sender, off.sender)}, against without`,
      );
      if (!inject) {
        // One more run with the kernel's BPF statistics on (they cost two clock reads a run: apart).
        spawnSync('sysctl', ['-q', 'kernel.bpf_stats_enabled=1']);
        const timed = (await cli(sender, 0, dir, { inject: false, beforeStop: programTime })).before;
        // Off again at once: the statistics' clock reads would be charged to the runs below.
        spawnSync('sysctl', ['-q', `kernel.bpf_stats_enabled=${stats || '0'}`]);
        if (timed?.runs > 0) {
          const perDatagram = median(results.off.map((r) => 1e9 / r.sent));
          console.log(
            `    the programs ran ${timed.runs} times in the second, ${(timed.ns / timed.runs).toFixed(0)} ns each (bpf_stats, its own clock reads included), against ${perDatagram.toFixed(0)} ns per datagram sent without them`,
          );
        }
      }
    }
    // What the programs cost the traffic alone: the same sender through a UDP socket while netwho
    // capture runs with a filter that matches none of it (its programs loaded, or not), so the
    // capture's own work does not share the machine with the sender.
    // The cleanest of the three measures (least noise), so more runs.
    const idle = { on: [], off: [] };
    for (let i = 0; i < idleRuns; i++) {
      for (const ebpf of i % 2 === 0 ? [true, false] : [false, true]) {
        const r = await cli(sender, 0, dir, { ebpf, inject: false, filter: 'udp dst port 1' });
        idle[ebpf ? 'on' : 'off'].push((r.senderCpu / r.sent) * 1e9);
      }
    }
    const change = ((median(idle.on) - median(idle.off)) / median(idle.off)) * 100;
    console.log(
      `  the sender alone (capture idle, its filter matching none of it), ${idleRuns} runs each: CPU/datagram ${spread(idle.on)} ns with the programs, ${spread(idle.off)} ns without: ${change.toFixed(1)}%`,
    );
  } finally {
    spawnSync('sysctl', ['-q', `kernel.bpf_stats_enabled=${stats || '0'}`]);
    rmSync(dir, { recursive: true, force: true });
  }
}

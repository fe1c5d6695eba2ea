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

function send(sender, rate) {
  const r = spawnSync(sender, ['9', String(rate), '1000', '64', 'inject'], { encoding: 'utf8' });
  const m = /sent (\d+) seconds ([\d.]+)/.exec(r.stdout);
  if (!m) throw new Error(`sender failed: ${r.stderr}`);
  return Number(m[1]);
}

/**
 * Runs `argv` under bash so that its CPU time is reported (`times`), waits until `ready()` says it
 * captures, sends, lets it catch up, stops it with SIGINT; returns its output and CPU seconds.
 */
async function runTool(argv, sender, rate, ready) {
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
  const sent = send(sender, rate);
  // Longer than any tool holds a block that is not full (tcpdump: libpcap's 1 s timeout).
  await sleep(1500);
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
  return { sent, stdout: lines.slice(0, -2).join('\n'), stderr, cpu: user + system - startup };
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

async function tcpdump(sender, rate, dir) {
  const r = await runTool(
    ['tcpdump', '-i', 'lo', '-n', '-s', '128', '-B', '65536', '-w', join(dir, 'tcpdump.pcap'), FILTER],
    sender,
    rate,
    waitFor(/listening on/),
  );
  const captured = Number(/(\d+) packets? captured/.exec(r.stderr)?.[1] ?? Number.NaN);
  const dropped = Number(/(\d+) packets? dropped by kernel/.exec(r.stderr)?.[1] ?? Number.NaN);
  return { sent: r.sent, captured, dropped, cpu: r.cpu };
}

async function library(sender, rate) {
  const r = await runTool(
    [process.execPath, join(here, 'live-child.mjs'), FILTER],
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

async function cli(sender, rate, dir) {
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
      ...FILTER.split(' '),
    ],
    sender,
    rate,
    () => sleep(1500),
  );
  const summary = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{')) ?? '{}');
  const lo = summary.devices?.[0] ?? {};
  return {
    sent: r.sent,
    captured: summary.written,
    dropped: (lo.kernelDropped ?? Number.NaN) + (lo.netwhoDropped ?? 0),
    labelled: summary.labelled,
    cpu: r.cpu,
  };
}

const RATES = [100_000, 200_000, 300_000, 400_000, 500_000, 0];

export async function liveBenchmark() {
  const dir = mkdtempSync(join(tmpdir(), 'netwho-live-bench-'));
  try {
    const sender = buildSender(dir);
    const tools = [
      ['tcpdump -w', (rate) => tcpdump(sender, rate, dir)],
      ['LiveCapture + decode + flows', (rate) => library(sender, rate)],
      ['netwho capture -w (attributed)', (rate) => cli(sender, rate, dir)],
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
    const tcpdumpBest = best.get('tcpdump -w');
    console.log('\n  highest rate with zero loss (packets in the 1 s run):');
    for (const [name, value] of best) {
      const ratio =
        name === 'tcpdump -w' || tcpdumpBest === 0 ? '' : `  ${(value / tcpdumpBest).toFixed(2)}x tcpdump`;
      console.log(`    ${name.padEnd(32)} ${String(value).padStart(8)}/s${ratio}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

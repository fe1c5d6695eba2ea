// Soak of `netwho agent` (not part of the test run): the agent on loopback while programs churn,
// its memory sampled from /proc. As root, after `pnpm build`:
//   node scripts/soak-agent.mjs [--minutes 60] [--every 10] [--programs 2000]
// Every 100 ms a new short-lived client runs under one of --programs names (a node symlinked to
// that name), sends 20 KB to a local server and exits: programs and connections come and go,
// series fill up to the cap and expire, history intervals are written. Prints RSS and heap over
// time and the first/last ratio; memory is flat when the later samples stay near the first ones.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    every: { type: 'string', default: '10' },
    programs: { type: 'string', default: '2000' },
  },
});
const dir = mkdtempSync(join(tmpdir(), 'netwho-soak-'));
const BIN = join(import.meta.dirname, '..', 'apps', 'cli', 'dist', 'netwho.js');

const server = createServer((s) =>
  s
    .resume()
    .on('error', () => {})
    .on('end', () => s.end()),
);
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

const agent = spawn(
  process.execPath,
  [
    BIN,
    'agent',
    '-i',
    'lo',
    '-f',
    `tcp port ${port}`,
    '--metrics',
    '127.0.0.1:0',
    '--max-series',
    '200',
    '--series-ttl',
    '2m',
    '--db',
    join(dir, 'soak.db'),
    '--no-dns',
  ],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
let log = '';
agent.stderr.on('data', (d) => (log += d));
/** The agent's own view of its V8 heap, from its /metrics (v8js_memory_heap_used_bytes). */
async function heapUsed() {
  const url = /"metrics":"([^"]+)"/.exec(log)?.[1];
  if (!url) return Number.NaN;
  const text = await (await fetch(url)).text();
  return Number(/^v8js_memory_heap_used_bytes (\d+)/m.exec(text)?.[1]);
}

const names = Number(values.programs);
const bins = new Map();
function binFor(i) {
  let path = bins.get(i);
  if (!path) {
    path = join(dir, `soak-${i}`);
    symlinkSync(process.execPath, path);
    bins.set(i, path);
  }
  return path;
}
// Each client opens with an HTTP request head naming one of 5,000 hosts, so that the names tables
// (flows being read, names kept, history's addresses) churn too.
const client = (host) =>
  `const s=require('net').connect(${port},'127.0.0.1',()=>s.end(Buffer.concat([Buffer.from('GET / HTTP/1.1\\r\\nHost: ${host}\\r\\n\\r\\n'),Buffer.alloc(20000)])));s.on('close',()=>process.exit(0));s.on('error',()=>process.exit(0));`;
let started = 0;
const churn = setInterval(() => {
  const host = `host-${started % 5000}.soak.test`;
  spawn(binFor(started++ % names), ['-e', client(host)], { stdio: 'ignore' }).on('error', () => {});
}, 100);

function memory() {
  const status = readFileSync(`/proc/${agent.pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

const samples = [];
const heaps = [];
const end = Date.now() + Number(values.minutes) * 60_000;
console.log('minute   RSS MiB   peak MiB   heap MiB   clients started');
await new Promise((resolve) => {
  const sample = async () => {
    const m = memory();
    const heap = await heapUsed();
    heaps.push(heap);
    const minute = ((Date.now() - (end - Number(values.minutes) * 60_000)) / 60_000).toFixed(1);
    samples.push(m.rss);
    console.log(
      `${minute.padStart(6)}   ${(m.rss / 1024).toFixed(1).padStart(7)}   ${(m.hwm / 1024).toFixed(1).padStart(8)}   ${(heap / 1048576).toFixed(1).padStart(8)}   ${started}`,
    );
    if (Date.now() >= end) resolve();
  };
  setTimeout(sample, 2000);
  const timer = setInterval(() => {
    sample();
    if (Date.now() >= end) clearInterval(timer);
  }, Number(values.every) * 1000);
});
clearInterval(churn);
agent.kill('SIGTERM');
await new Promise((r) => agent.once('exit', r));
server.close();
const third = Math.max(1, Math.floor(samples.length / 3));
const early = samples.slice(0, third).reduce((a, b) => a + b, 0) / third;
const late = samples.slice(-third).reduce((a, b) => a + b, 0) / third;
console.log(
  `\nRSS, mean of the first third of samples: ${(early / 1024).toFixed(1)} MiB; of the last third: ${(late / 1024).toFixed(1)} MiB (x${(late / early).toFixed(2)})`,
);
const stop = log
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l))
  .at(-1);
const hEarly = heaps.slice(0, third).reduce((a, b) => a + b, 0) / third;
const hLate = heaps.slice(-third).reduce((a, b) => a + b, 0) / third;
console.log(
  `V8 heap in use, the same: ${(hEarly / 1048576).toFixed(1)} MiB; ${(hLate / 1048576).toFixed(1)} MiB (x${(hLate / hEarly).toFixed(2)})`,
);
console.log(`agent.stop: ${JSON.stringify(stop)}`);
console.log(`history file: ${(statSync(join(dir, 'soak.db')).size / 1048576).toFixed(1)} MiB`);
rmSync(dir, { recursive: true, force: true });

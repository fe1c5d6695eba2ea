// Benchmark of the live pipeline's attribution (@netwho/attributor inside CaptureMonitor). Run
// with `pnpm bench` (after `pnpm build`, as root for capture and eBPF).
//   node bench/run.mjs [--only tcp|tcp-c|tcp-fork|udp|udp-c] [--server node|c] [--helper-threads batch|unchanged]
//     [--reader-cpu N]
// Attribution per connection lifetime on loopback: real client processes, a live capture, both
//    ends of each connection (client and server), with eBPF and the socket table, the socket table
//    alone, and in the same run the approach Node tools take today (shell out to `ss -p` for each
//    new connection); then the same connections captured by LiveCapture alone, the floor under
//    the label latency. Clients and servers are Node processes, or small C programs built by the
//    bench (sequential-client.c, echo-server.c) that make and answer exchanges at once.
// The attributor's own hot paths (lookups, replay throughput) are in its bench.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
// wallClock: the wall clock packets are stamped with, to the microsecond (performance.timeOrigin is not).
import { DecodedPacket, decodePacket, LiveCapture, wallClock } from '@netwho/capture';
import { CaptureMonitor } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string' }, // rows whose clients are these: tcp, tcp-c, tcp-fork, udp or udp-c
    server: { type: 'string' }, // rows whose server is this: node or c
    // LiveCapture's helperThreads for the monitors and the capture alone (default: batch, as immediate captures have it)
    'helper-threads': { type: 'string' },
    // LiveCapture's readerCpu for the monitors and the capture alone: their reader on CPU N, the process's other threads off it
    'reader-cpu': { type: 'string' },
  },
});
const threadOptions = {
  ...(values['helper-threads'] && { helperThreads: values['helper-threads'] }),
  ...(values['reader-cpu'] !== undefined && { readerCpu: Number(values['reader-cpu']) }),
};
/** The CPUs this process may use, before any capture binds its reader (proc(5): Cpus_allowed_list). */
const CPUS = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
const FIXTURES = join(import.meta.dirname, '..', 'test', 'fixtures');
const pct = (a, b) => (b === 0 ? '-' : `${((100 * a) / b).toFixed(1)}%`);
const fmt = (ms) =>
  ms === undefined ? '-' : ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;

function percentile(values, p) {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Runs a fixture (a Node script, or a program given by path), resolves with its last JSON line when it exits. */
function runFixture(name, args) {
  const program = name.endsWith('.mjs') ? [process.execPath, join(FIXTURES, name)] : [name];
  // With --reader-cpu a child forked from the bound main thread would inherit its one CPU: given
  // the CPUs this process had, as without it.
  const argv = values['reader-cpu'] !== undefined ? ['taskset', '-c', CPUS, ...program] : program;
  const child = spawn(argv[0], [...argv.slice(1), ...args.map(String)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  let last;
  lines.on('line', (line) => (last = JSON.parse(line)));
  return {
    child,
    first: once(lines, 'line').then(([l]) => JSON.parse(l)),
    next: () => once(lines, 'line').then(([l]) => JSON.parse(l)),
    done: once(child, 'exit').then(() => last),
  };
}

/** bench/NAME.c, built with the system's C compiler into the temporary directory; its path. */
function buildC(name) {
  const out = join(tmpdir(), `netwho-${name}-${process.pid}`);
  const r = spawnSync('cc', ['-O2', '-o', out, join(import.meta.dirname, `${name}.c`)], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`cannot build bench/${name}.c: ${r.stderr}`);
  process.on('exit', () => rmSync(out, { force: true }));
  return out;
}
let sequentialClient;

const isUdp = (protocol) => protocol.startsWith('udp');

/**
 * The row's clients: `count` single-datagram UDP exchanges from Node; TCP connections living
 * `lifetime` ms from Node, 8 at a time; or (`tcp-c`, `udp-c`) from a small C client, one after
 * another, as the issue saw (a UDP exchange is followed by a pause of `lifetime` ms); or
 * (`tcp-fork`) from a new C process for each connection, as a shell running curl makes them.
 */
function runClients(serverPort, lifetime, count, protocol) {
  if (protocol === 'udp') return runFixture('udp-exchanges.mjs', [serverPort, count]);
  if (protocol.endsWith('-c') || protocol === 'tcp-fork') {
    sequentialClient ??= buildC('sequential-client');
    const kind = protocol === 'tcp-fork' ? protocol : protocol.slice(0, 3); // tcp, udp or tcp-fork
    return runFixture(sequentialClient, [kind, serverPort, count, Math.round(lifetime * 1000)]);
  }
  return runFixture('tcp-clients.mjs', [serverPort, count, lifetime, 8]);
}

/** `ss -tnpH` for one local port, as a Node tool shelling out would do: the pid, or undefined. */
function ssOwner(port) {
  return new Promise((resolve) => {
    const ss = ['ss', '-tnpH', 'state', 'all', `sport = :${port}`];
    const argv = values['reader-cpu'] !== undefined ? ['taskset', '-c', CPUS, ...ss] : ss; // as runFixture's
    execFile(argv[0], argv.slice(1), (error, stdout) => {
      const match = !error && /pid=(\d+)/.exec(stdout);
      resolve(match ? Number(match[1]) : undefined);
    });
  });
}

/**
 * One pass of `count` connections living `lifetime` ms, attributed by `who`: 'netwho' (our
 * attributor on a live capture) or 'ss' (shell out to `ss -p` for each new flow, as Node tools do).
 */
async function pass(server, lifetime, count, who, protocol = 'tcp') {
  const serverPort = server.port;
  const monitor = CaptureMonitor.open({
    device: 'lo',
    filter: `${isUdp(protocol) ? 'udp' : 'tcp'} dst port ${serverPort}`,
    ...(who !== 'ebpf' && { connections: false }),
    ...threadOptions,
  });
  if (server.accepts) await server.accepts(); // forget the earlier passes' connections
  const firstSeen = new Map(); // monitor id of an end -> its flow's first packet (ms)
  const latency = { client: [], server: [] };
  const answers = new Map(); // local port -> Promise<pid | undefined> or label
  const portOf = new Map();
  const serverLabelled = new Map(); // client port -> when the server end of its connection was labelled (ms)
  if (who === 'ss') monitor.attributor.close(); // the capture alone; ss answers
  // First: an eBPF label is set while the flow event is being handled.
  monitor.table.prependListener('flow', (f) => {
    portOf.set(f.id, f.local.port);
    portOf.set(-f.id - 1, `server end of ${f.local.port}`); // the monitor's id for the other end
    firstSeen.set(f.id, f.firstSeen).set(-f.id - 1, f.firstSeen);
    if (who === 'ss') answers.set(f.local.port, ssOwner(f.local.port));
  });
  monitor.attributor.on('label', (id, label, previous) => {
    answers.set(portOf.get(id), label);
    if (label.status === 'known' && previous.status === 'pending' && firstSeen.has(id)) {
      const now = wallClock.now();
      latency[id >= 0 ? 'client' : 'server'].push(now - firstSeen.get(id));
      if (id < 0) serverLabelled.set(portOf.get(-id - 1), now);
    }
  });
  const clients = runClients(serverPort, lifetime, count, protocol);
  const { pid, pids, ports } = await clients.done;
  const ends = [
    ...ports.map((p, i) => [p, pids?.[i] ?? pid]), // tcp-fork: each port's own process
    ...(who === 'ss' ? [] : ports.map((p) => [`server end of ${p}`, server.pid])),
  ];
  const settled = () => ends.every(([e]) => answers.has(e) && answers.get(e).status !== 'pending');
  for (const end = Date.now() + 4000; who !== 'ss' && Date.now() < end && !settled(); ) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const stats = monitor.attributor.stats();
  const { readerCpu } = monitor.capture.stats();
  monitor.close();
  // When the server accepted each connection, after its first packet: no owner can be known
  // before. And how long after that its server end was labelled: netwho's own part.
  let accepted = [];
  let afterAccept = [];
  let afterRead = [];
  if (server.accepts && who === 'ebpf') {
    const answer = await server.accepts();
    const byPort = (times) => new Map(Object.entries(times).map(([port, t]) => [Number(port), t]));
    const acceptedAt = byPort(answer.accepts);
    const firstByPort = new Map(
      [...firstSeen].filter(([id]) => id >= 0).map(([id, t]) => [portOf.get(id), t]),
    );
    /** For each port in both: to − from (ms). */
    const elapsed = (from, to) =>
      [...from].filter(([port]) => to.has(port)).map(([port, t]) => to.get(port) - t);
    accepted = elapsed(firstByPort, acceptedAt);
    afterAccept = elapsed(acceptedAt, serverLabelled);
    // From its server's first read on, the kernel has the server end's record: the rest is netwho's.
    afterRead = elapsed(byPort(answer.reads), serverLabelled);
  }
  let right = 0;
  let wrong = 0;
  let exited = 0; // right answers whose process had exited when it was labelled (no path)
  for (const [end, expected] of ends) {
    const answer = await answers.get(end);
    const got = who === 'ss' ? answer : answer?.status === 'known' ? answer.process.pid : undefined;
    if (got !== undefined) got === expected ? right++ : wrong++;
    if (got === expected && answer.exited) exited++;
  }
  return {
    connections: ends.length,
    right,
    wrong,
    exited,
    p50: stats.labelLatency.p50,
    p99: stats.labelLatency.p99,
    waitP99: stats.labelWait.p99,
    ebpfReason: monitor.ebpfReason,
    readerCpu,
    client: latency.client,
    server: latency.server,
    accepted,
    afterAccept,
    afterRead,
  };
}

/**
 * The floor under the label latency: the same connections captured by LiveCapture alone (same
 * snap length and ring as the monitor), the time from each flow's first packet to its delivery.
 */
async function captureAlone(serverPort, lifetime, count, protocol) {
  const capture = LiveCapture.open({
    device: 'lo',
    filter: `${isUdp(protocol) ? 'udp' : 'tcp'} dst port ${serverPort}`,
    snapLength: 2048,
    immediate: true,
    ...threadOptions,
  });
  const seen = new Set();
  const delays = [];
  const d = new DecodedPacket();
  capture.on('packet', (p) => {
    decodePacket(p.buffer, p.linkType, d, p.offset, p.offset + p.length);
    if (seen.has(d.srcPort)) return;
    seen.add(d.srcPort);
    delays.push(wallClock.now() - (p.seconds * 1000 + p.nanoseconds / 1e6));
  });
  const clients = runClients(serverPort, lifetime, count, protocol);
  await clients.done;
  await new Promise((r) => setTimeout(r, 100));
  capture.close();
  return { p50: percentile(delays, 50), p99: percentile(delays, 99) };
}

/** A UDP server on loopback that answers every datagram, for the single-exchange row. */
async function udpEcho() {
  const { createSocket } = await import('node:dgram');
  const socket = createSocket('udp4');
  socket.on('message', (m, from) => socket.send(m, from.port, from.address));
  await new Promise((r) => socket.bind(0, '127.0.0.1', r));
  return socket;
}

/** A TCP server (the Node fixture, or bench/echo-server.c) and how to ask it when it accepted. */
async function tcpServer(kind) {
  const server = runFixture(kind === 'c' ? buildC('echo-server') : 'tcp-server.mjs', []);
  const { port } = await server.first;
  const accepts = async () => {
    const answer = server.next();
    server.child.stdin.write('accepts\n');
    return await answer; // { accepts, reads }: client port -> when accepted, when first read (ms)
  };
  return { port, pid: server.child.pid, accepts, close: () => server.child.stdin.end() };
}

/** bench/wake-floor.c: how late this machine wakes a process blocked on another, nothing else of ours running. */
function wakeFloor() {
  const r = spawnSync(buildC('wake-floor'), ['5000'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench/wake-floor.c failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function lifetimes() {
  const floorBefore = wakeFloor();
  const servers = { node: await tcpServer('node'), c: await tcpServer('c') };
  const echo = await udpEcho();
  const rows = [];
  for (const [lifetime, count, protocol, serverKind = 'node'] of [
    [1000, 40, 'tcp'],
    [100, 200, 'tcp'],
    [10, 500, 'tcp'],
    [1, 1000, 'tcp'],
    [0.1, 1000, 'tcp'],
    [1, 1000, 'tcp-c'],
    [0.1, 1000, 'tcp-c'],
    [1, 1000, 'tcp-c', 'c'],
    [0.1, 1000, 'tcp-c', 'c'],
    [1, 500, 'tcp-fork', 'c'],
    [0, 300, 'udp'],
    [0.1, 1000, 'udp-c', 'c'], // 0.1 ms between exchanges
    [0, 10000, 'udp-c', 'c'], // a burst: one exchange after another, as fast as the client goes
  ].filter(
    ([, , protocol, serverKind = 'node']) =>
      (values.only === undefined || values.only === protocol) &&
      (values.server === undefined || values.server === serverKind),
  )) {
    const target =
      protocol === 'udp'
        ? { port: echo.address().port, pid: process.pid }
        : protocol === 'udp-c'
          ? { port: servers.c.port, pid: servers.c.pid } // echo-server.c answers UDP on its port too
          : servers[serverKind];
    rows.push({
      lifetime,
      protocol,
      serverKind,
      ebpf: await pass(target, lifetime, count, 'ebpf', protocol),
      table: await pass(target, lifetime, count, 'socket-table', protocol),
      ss: !isUdp(protocol) ? await pass(target, lifetime, count, 'ss', protocol) : undefined,
      alone: await captureAlone(target.port, lifetime, count, protocol),
    });
  }
  servers.node.close();
  servers.c.close();
  echo.close();
  const floorAfter = wakeFloor();
  const reason = rows[0].ebpf.ebpfReason;
  console.log(
    '\n1. Attribution per connection lifetime (loopback; Node clients 8 connections at a time to a Node server, or a C client',
  );
  console.log(
    '   one after another ("C 1 by 1") to the Node server or ("C to C") to a C server that answers at once; "new process":',
  );
  console.log(
    '   each connection made by a new C process that exits after it, to the C server, as a shell running curl makes them)',
  );
  if (reason) console.log(`   eBPF is off here (${reason}): the eBPF column is the socket table too`);
  const bound = rows[0].ebpf.readerCpu;
  if (bound) {
    console.log(
      bound.cpu === undefined
        ? `   --reader-cpu: not bound (${bound.reason})`
        : `   the readers on CPU ${bound.cpu} alone, the process's ${bound.moved} other threads off it (--reader-cpu)`,
    );
  }
  console.log(
    "   both ends of each connection are labelled; label p50 / p99 from the first packet (p99 of the attributor's own part);",
  );
  console.log(
    '   "capture alone": first packet to its delivery, LiveCapture with nothing else, same connections',
  );
  console.log(
    'connections              | netwho eBPF + socket table: ends, attributed, wrong, label p50 / p99 (own) | socket table only | ss -p per new flow | capture alone p50 / p99',
  );
  // "C 1 by 1": the C client, one after another, to the Node server; "C to C": to the C server too.
  const what = ({ protocol, lifetime, serverKind }) => {
    if (protocol === 'tcp-fork') return `TCP ${lifetime} ms, C, new process`.padEnd(24);
    const who = protocol.endsWith('-c') ? (serverKind === 'c' ? ', C to C' : ', C 1 by 1') : '';
    if (isUdp(protocol))
      return `UDP 1 datagram${who}${protocol === 'udp-c' && lifetime === 0 ? ', burst' : ''}`.padEnd(24);
    return `TCP ${lifetime} ms${who}`.padEnd(24);
  };
  for (const row of rows) {
    const { ebpf, table, ss, alone } = row;
    const cell = (r) =>
      `${pct(r.right, r.connections).padStart(6)}, ${r.wrong}, ${fmt(r.p50)} / ${fmt(r.p99)} (${fmt(r.waitP99)})`;
    console.log(
      `${what(row)} | ${String(ebpf.connections).padStart(5)}: ${cell(ebpf)} | ${cell(table)} | ${ss ? `${pct(ss.right, ss.connections).padStart(6)}, ${ss.wrong}` : '-'} | ${fmt(alone.p50)} / ${fmt(alone.p99)}`,
    );
  }
  console.log(
    '\n   label latency from the first packet by end (eBPF + socket table); when the server accepted (nothing owns an accepted',
  );
  console.log(
    '   socket before), how long after its accept and after its first read (from which the kernel holds its record: the rest',
  );
  console.log("   is netwho's) each server end was labelled:");
  console.log(
    'connections              | client ends p50 / p99 | server ends p50 / p99 | server accepted p50 / p99 | labelled after accept p50 / p99 | after first read p50 / p99 | capture alone p50 / p99',
  );
  const pair = (values) => `${fmt(percentile(values, 50))} / ${fmt(percentile(values, 99))}`.padEnd(21);
  const optional = (values, width) => (values.length ? pair(values) : '-').padEnd(width);
  for (const row of rows) {
    const { ebpf, alone } = row;
    console.log(
      `${what(row)} | ${pair(ebpf.client)} | ${pair(ebpf.server)} | ${optional(ebpf.accepted, 25)} | ${optional(ebpf.afterAccept, 31)} | ${optional(ebpf.afterRead, 26)} | ${fmt(alone.p50)} / ${fmt(alone.p99)}`,
    );
  }
  for (const row of rows.filter((r) => r.protocol === 'tcp-fork')) {
    const clients = row.ebpf.connections / 2;
    console.log(
      `\n   ${what(row).trim()}: ${clients - row.ebpf.exited} of ${clients} client ends labelled while their process still ran (with its path), the others from the kernel's record after it exited`,
    );
  }
  const floor = (f) => `${fmt(f.p50)} / ${fmt(f.p99)} / ${fmt(f.p999)} (max ${fmt(f.max)})`;
  console.log(
    '\n   the floor: how late this machine wakes a process blocked on a pipe when another writes to it, 5,000 times',
  );
  console.log(
    '   300 µs apart with nothing of netwho running (bench/wake-floor.c), before and after the rows:',
  );
  console.log(`   p50 / p99 / p99.9: ${floor(floorBefore)}, then ${floor(floorAfter)}`);
  return rows;
}

if (process.getuid?.() !== 0) console.log('skipped: live capture needs root');
else await lifetimes();
console.log(
  '\nThe attributor alone (first and warm lookups, replay throughput): pnpm --filter @netwho/attributor bench',
);
process.exit(0);

// Benchmark of the attributor's own hot paths. Run with `pnpm bench` (after `pnpm build`).
//   node bench/run.mjs [--ports 100] [--packets 500000] [--flows 10000]
// 1. First lookups: a new flow on a port not cached yet (one socket-table read, limited to that
//    port), against shelling out to `ss -p` for it, as Node tools do, on the same ports.
// 2. Warm lookups: a new flow on a known port (cache + one readlink), p50/p99, against the same.
// 3. Pipeline throughput: a capture file replayed through decode + flows + attribution with a
//    prepared socket table, against decode + flows alone.
// Attribution of real short connections on a live capture (eBPF and the socket table, both ends)
// is measured where capture and attribution meet: `pnpm --filter @netwho/monitor bench`.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { DecodedPacket, decodePacket, FlowTable, PcapWriter, parseCaptureFile } from '@netwho/capture';
import { Attributor, systemOwners } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    ports: { type: 'string', default: '100' },
    packets: { type: 'string', default: '500000' },
    flows: { type: 'string', default: '10000' },
  },
});
const fmt = (ms) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Another Node process listening on `count` TCP ports of 127.0.0.1: its pid and ports. */
async function listeners(count) {
  const script = `
    const net = require('node:net');
    Promise.all(Array.from({ length: ${count} }, () => new Promise((r) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => r(s.address().port));
    }))).then((ports) => console.log(JSON.stringify(ports)));
    process.stdin.resume();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = await once(createInterface({ input: child.stdout }), 'line');
  return { pid: child.pid, ports: JSON.parse(line), close: () => child.kill() };
}

/** `ss -tnpH` for one local port, as a Node tool shelling out would do: the pid, or undefined. */
function ssOwner(port) {
  return new Promise((resolve) => {
    execFile('ss', ['-tnpH', 'state', 'all', `sport = :${port}`], (error, stdout) => {
      const match = !error && /pid=(\d+)/.exec(stdout);
      resolve(match ? Number(match[1]) : undefined);
    });
  });
}

let nextId = 1;
const flowOn = (port, remotePort) => ({
  id: nextId++,
  protocol: 6,
  local: { address: '127.0.0.1', port },
  remote: { address: '127.0.0.1', port: remotePort },
});

/** Time from flowStarted to the flow's label, and whether it named `pid`. */
function labelTime(attributor, flow, pid) {
  const t = performance.now();
  const now = attributor.flowStarted(flow);
  if (now.status !== 'pending')
    return Promise.resolve({ ms: performance.now() - t, right: now.process?.pid === pid });
  return new Promise((resolve) => {
    const onLabel = (id, label) => {
      if (id !== flow.id) return;
      attributor.off('label', onLabel);
      resolve({ ms: performance.now() - t, right: label.status === 'known' && label.process.pid === pid });
    };
    attributor.on('label', onLabel);
  });
}

async function lookups() {
  const server = await listeners(Number(values.ports));
  const attributor = new Attributor(systemOwners());
  const first = [];
  const ss = [];
  let wrong = 0;
  for (const port of server.ports) {
    const netwho = await labelTime(attributor, flowOn(port, 40000), server.pid);
    first.push(netwho.ms);
    if (!netwho.right) wrong++;
    const t = performance.now();
    if ((await ssOwner(port)) !== server.pid) wrong++;
    ss.push(performance.now() - t);
  }
  const warm = [];
  for (let i = 0; i < 20000; i++) {
    const port = server.ports[i % server.ports.length];
    const flow = flowOn(port, 1024 + (i % 60000));
    const t = performance.now();
    const label = attributor.flowStarted(flow);
    warm.push(performance.now() - t);
    if (label.status !== 'known' || label.process.pid !== server.pid) wrong++;
    attributor.flowEnded(flow.id);
  }
  attributor.close();
  server.close();
  const ratio = (ours) => `${(percentile(ss, 50) / percentile(ours, 50)).toFixed(0)}x`;
  console.log(
    `1. First lookups: a new flow on each of ${server.ports.length} ports of another process (none cached)`,
  );
  console.log('                         | p50       | p99       | vs ss -p per port (p50)');
  console.log(
    `netwho (socket table)    | ${fmt(percentile(first, 50)).padEnd(9)} | ${fmt(percentile(first, 99)).padEnd(9)} | ${ratio(first)} faster`,
  );
  console.log(
    `ss -tnpH sport = :port   | ${fmt(percentile(ss, 50)).padEnd(9)} | ${fmt(percentile(ss, 99)).padEnd(9)} |`,
  );
  console.log('\n2. Warm lookups: 20,000 new flows on those known ports (cache + one readlink)');
  console.log(
    `netwho                   | ${fmt(percentile(warm, 50)).padEnd(9)} | ${fmt(percentile(warm, 99)).padEnd(9)} | ${ratio(warm)} faster`,
  );
  console.log(`wrong owners: ${wrong}`);
}

/** A file of `packets` Ethernet/IPv4 TCP packets over `flows` flows, local side 10.0.0.1. */
function generate(file, packets, flows) {
  const writer = new PcapWriter(file, { linkType: 1 });
  const frame = Buffer.alloc(200);
  frame.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0], 0);
  for (let i = 0; i < packets; i++) {
    const flow = (i * 7919) % flows;
    const out = i % 3 !== 0;
    const ipLength = 40 + ((i * 31) % 120);
    frame.set([0x45, 0, ipLength >> 8, ipLength & 255, 0, 0, 0x40, 0, 64, 6, 0, 0], 14);
    const local = [10, 0, 0, 1];
    const remote = [1 + (flow % 223), (flow >> 8) & 255, (flow * 13) & 255, flow & 255];
    frame.set(out ? local : remote, 26);
    frame.set(out ? remote : local, 30);
    const localPort = 20000 + (flow % 40000);
    frame.writeUInt16BE(out ? localPort : 443, 34);
    frame.writeUInt16BE(out ? 443 : localPort, 36);
    frame[46] = 0x50;
    frame[47] = i < flows ? 0x02 : 0x10;
    writer.writePacket({
      data: frame.subarray(0, 14 + ipLength),
      seconds: 1_700_000_000 + Math.floor(i / 1e6),
      nanoseconds: (i % 1e6) * 1000,
    });
  }
  writer.close();
}

async function replay(file, withAttribution) {
  const table = new FlowTable({ maxFlows: 65536, localAddresses: ['10.0.0.1'] });
  const process_ = { pid: 4242, name: 'prepared', path: '/usr/bin/prepared' };
  // The prepared socket table: every local port belongs to one process; answers come from memory.
  const source = {
    async lookup(queries) {
      return queries.map((q) => ({
        owner: { process: process_, inode: q.local.port, fd: 3, localAddress: '0.0.0.0' },
      }));
    },
    verify: () => true,
  };
  // A replay brings new flows far faster than live traffic: a deep queue and big batches.
  const attributor = withAttribution
    ? new Attributor(source, { maxFlows: 65536, maxPending: 65536, maxBatch: 8192 })
    : undefined;
  if (attributor) {
    table.on('flow', (f) => attributor.flowStarted(f));
    table.on('end', (f) => attributor.flowEnded(f.id));
  }
  const p = new DecodedPacket();
  const start = performance.now();
  // The file is read in chunks; lookups run between them.
  await parseCaptureFile(file, (r) => {
    decodePacket(r.buffer, r.linkType, p, r.offset, r.offset + r.capturedLength);
    table.add(p, r.seconds * 1000 + r.nanoseconds / 1e6, r.originalLength);
  });
  while (attributor && attributor.stats().pending > 0) await new Promise((resolve) => setTimeout(resolve, 1));
  const ms = performance.now() - start;
  const stats = attributor?.stats();
  attributor?.close();
  return { ms, stats };
}

async function throughput() {
  const packets = Number(values.packets);
  const flows = Number(values.flows);
  const file = join(tmpdir(), `netwho-attributor-bench-${process.pid}.pcap`);
  generate(file, packets, flows);
  try {
    const runs = { base: [], full: [] };
    let stats;
    for (let i = 0; i < 3; i++) {
      runs.base.push((await replay(file, false)).ms);
      const full = await replay(file, true);
      runs.full.push(full.ms);
      stats = full.stats;
    }
    const base = Math.min(...runs.base);
    const full = Math.min(...runs.full);
    const rate = (ms) => `${(((packets / ms) * 1000) / 1e6).toFixed(2)} M packets/s`;
    console.log(
      `\n3. Pipeline replay: ${packets.toLocaleString()} packets, ${flows.toLocaleString()} flows (best of 3)`,
    );
    console.log(`read + decode + flows:               ${base.toFixed(0)} ms (${rate(base)})`);
    console.log(
      `read + decode + flows + attribution: ${full.toFixed(0)} ms (${rate(full)}, ${(full / base).toFixed(2)}x the time), ${stats.attributed} of ${stats.flows} flows attributed, ${stats.lookups} table reads`,
    );
  } finally {
    rmSync(file, { force: true });
  }
}

await lookups();
await throughput();
console.log('\nShort connections on a live capture (eBPF, both ends): pnpm --filter @netwho/monitor bench');
process.exit(0);

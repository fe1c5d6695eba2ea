// Benchmark of @netwho/capture: offline decode + flow table against tcpdump and tshark on the same
// generated file, and live capture on loopback against tcpdump (bench/live.mjs). Run with `pnpm bench` (after `pnpm build`).
//   node bench/run.mjs [--packets 1000000] [--flows 10000] [--no-live] [--ebpf-only]
//   RATES=300000,500000,0 (the live ladder's rates; 0: full speed), HELPER_THREADS=unchanged (the
//   immediate LiveCapture's helperThreads, default batch)
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DecodedPacket, decodePacket, FlowNames, FlowTable, PcapWriter } from '../dist/index.js';
import { ebpfCostBenchmark, liveBenchmark } from './live.mjs';

const { values } = parseArgs({
  options: {
    packets: { type: 'string', default: '1000000' },
    flows: { type: 'string', default: '10000' },
    'no-live': { type: 'boolean', default: false },
    /** Only the eBPF-on/off part of the live benchmark. */
    'ebpf-only': { type: 'boolean', default: false },
  },
});
const PACKETS = Number(values.packets);
const FLOWS = Number(values.flows);

/**
 * A TLS ClientHello record (RFC 8446 section 4.1.2) naming `host` in server_name (RFC 6066
 * section 3): TLS 1.2 legacy version, 32 random bytes, no session id, two cipher suites, null
 * compression. What a flow's first bytes to port 443 look like.
 */
function clientHello(host) {
  const name = Buffer.from(host);
  const sni = Buffer.concat([
    Buffer.from([0, 0]), // server_name
    u16(name.length + 5),
    u16(name.length + 3),
    Buffer.from([0]), // host_name
    u16(name.length),
    name,
  ]);
  const body = Buffer.concat([
    Buffer.from([3, 3]),
    Buffer.alloc(32, 7),
    Buffer.from([0]),
    u16(4),
    Buffer.from([0x13, 0x01, 0x13, 0x02]),
    Buffer.from([1, 0]),
    u16(sni.length),
    sni,
  ]);
  const handshake = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 255]), body]);
  return Buffer.concat([Buffer.from([22, 3, 1]), u16(handshake.length), handshake]);
}

function u16(n) {
  return Buffer.from([n >> 8, n & 255]);
}

/**
 * A file of PACKETS Ethernet/IPv4 packets over FLOWS TCP and UDP flows, 60 to 250 bytes each; the
 * first data packet a TCP flow's client sends is a ClientHello naming its server.
 */
function generate(file) {
  const writer = new PcapWriter(file, { linkType: 1 });
  const frame = Buffer.alloc(400);
  // Ethernet: dst, src, type 0x0800; IPv4 header without options; then TCP (20) or UDP (8).
  frame.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0], 0);
  let seconds = 1_700_000_000;
  let nanoseconds = 0;
  for (let i = 0; i < PACKETS; i++) {
    const flow = (i * 7919) % FLOWS;
    const udp = flow % 4 === 0;
    const secondRound = i >= FLOWS && i < 2 * FLOWS; // each flow's first packet after its SYN
    const outgoing = secondRound || i % 3 !== 0;
    const hello = !udp && secondRound ? clientHello(`host-${flow}.example.net`) : undefined;
    const syn = !udp && i < FLOWS; // a SYN carries no data
    const payload = hello ? hello.length : syn ? 0 : 20 + ((i * 31) % 180);
    const l4 = udp ? 8 : 20;
    const ipLength = 20 + l4 + payload;
    frame.set([0x45, 0, ipLength >> 8, ipLength & 255, 0, 0, 0x40, 0, 64, udp ? 17 : 6, 0, 0], 14);
    const local = [10, 0, 0, 1];
    // Remote addresses spread over the whole space: tcpdump hashes addresses by their first octets,
    // so a file where all share one /16 would make it look slow for a reason real traffic lacks.
    const remote = [1 + (flow % 223), (flow >> 8) & 255, (flow * 13) & 255, flow & 255];
    frame.set(outgoing ? local : remote, 26);
    frame.set(outgoing ? remote : local, 30);
    const localPort = 20000 + (flow % 40000);
    const remotePort = udp ? 53 : 443;
    frame.writeUInt16BE(outgoing ? localPort : remotePort, 34);
    frame.writeUInt16BE(outgoing ? remotePort : localPort, 36);
    if (udp) frame.writeUInt16BE(8 + payload, 38);
    else {
      frame.writeUInt32BE(i, 38);
      frame.writeUInt32BE(i, 42);
      frame[46] = 0x50;
      frame[47] = i < FLOWS ? 0x02 : 0x10;
      if (hello) hello.copy(frame, 54);
      else frame.fill(0, 54, 54 + payload);
    }
    nanoseconds += 1000;
    if (nanoseconds >= 1e9) {
      seconds++;
      nanoseconds -= 1e9;
    }
    writer.writePacket({ data: frame.subarray(0, 14 + ipLength), seconds, nanoseconds });
  }
  writer.close();
}

/** Decode + flows, and with `withNames` the first packets of each flow read for names (netwho read, the monitor). */
function timeOurs(file, withNames = false) {
  const p = new DecodedPacket();
  const table = new FlowTable({ maxFlows: 65536, localAddresses: ['10.0.0.1'] });
  const names = withNames ? new FlowNames() : undefined;
  const start = process.hrtime.bigint();
  let n = 0;
  parseCaptureFileSyncFast(file, (r) => {
    decodePacket(r.buffer, r.linkType, p, r.offset, r.offset + r.capturedLength);
    const time = r.seconds * 1000 + r.nanoseconds / 1e6;
    const id = table.add(p, time, r.originalLength);
    names?.add(p, id, table.lastOutgoing, time, table.lastSent);
    n++;
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { ms, packets: n, flows: table.size, named: names?.stats().named ?? 0 };
}

let parseCaptureFileSyncFast;

function timeCommand(command, args) {
  const start = process.hrtime.bigint();
  const r = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) return { ms: Number.NaN, error: r.stderr.toString().slice(0, 200) };
  return { ms };
}

const best = (runs) => Math.min(...runs.map((r) => r.ms));

async function main() {
  ({ parseCaptureFileSync: parseCaptureFileSyncFast } = await import('../dist/index.js'));
  const file = join(tmpdir(), `netwho-bench-${process.pid}.pcap`);
  console.log(`generating ${PACKETS.toLocaleString()} packets over ${FLOWS.toLocaleString()} flows...`);
  generate(file);
  try {
    // Interleaved, so that a slow spell of this (shared) machine falls on every contender alike.
    // TZ=UTC: without TZ, glibc re-reads /etc/localtime for every timestamp tcpdump prints, which
    // would make tcpdump look several times slower than it is.
    const ours = [];
    const named = [];
    const tcpdump = [];
    for (let run = 0; run < 7; run++) {
      ours.push(timeOurs(file));
      named.push(timeOurs(file, true));
      tcpdump.push(timeCommand('sh', ['-c', `TZ=UTC tcpdump -r '${file}' -nn -q > /dev/null`]));
    }
    const tshark = [0, 1].map(() => timeCommand('tshark', ['-r', file, '-q', '-z', 'conv,tcp']));
    const oursMs = best(ours);
    const rows = [
      ['netwho decode + flows', oursMs],
      ['netwho + names (SNI, DNS)', best(named)],
      ['tcpdump -r -nn -q', best(tcpdump)],
      ['tshark -q -z conv,tcp', best(tshark)],
    ];
    console.log(
      `\noffline, ${PACKETS.toLocaleString()} packets, ${ours[0].flows.toLocaleString()} flows, ${named[0].named.toLocaleString()} named from their ClientHello (best of runs):`,
    );
    for (const [name, ms] of rows) {
      const rate = (PACKETS / ms) * 1000;
      const ratio = name.startsWith('netwho')
        ? ''
        : `  netwho is ${(ms / oursMs).toFixed(1)}x faster, ${(ms / best(named)).toFixed(1)}x with names`;
      console.log(
        `  ${name.padEnd(24)} ${ms.toFixed(0).padStart(7)} ms  ${(rate / 1e6).toFixed(2)} M packets/s${ratio}`,
      );
    }
  } finally {
    if (!process.env.KEEP) rmSync(file, { force: true });
  }
  if (!values['no-live'] && process.getuid?.() === 0) {
    await liveBenchmark();
    await ebpfCostBenchmark();
  } else if (!values['no-live'])
    console.log('\nlive benchmark skipped: it needs root (capture and packet injection)');
}

if (values['ebpf-only']) await ebpfCostBenchmark();
else await main();

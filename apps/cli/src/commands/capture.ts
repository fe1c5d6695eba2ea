import { CaptureError, FileDescriptorSink, type LivePacket, PcapngWriter, wallClock } from '@netwho/capture';
import type { CaptureMonitor, Label, RemoteEnd } from '@netwho/monitor';
import type { Command } from 'commander';
import { type HeldPacket, HeldPackets } from '../capture/held-packets';
import { type CommentEnd, formatEnd } from '../capture/program-comment';
import { type CaptureSummary, summaryLines } from '../capture/summary';
import { CliError, Exit, integer } from '../errors';
import { addNameOptions, namesFrom } from '../names/options';
import { openMonitor, requireCaptureMonitor } from '../watch/monitor';

/** How long a packet may wait for its flow's program before it is written without one. */
const HOLD_MS = 3000;
/** Bounds of the packets held for their labels: past either, the oldest is written as it is (and counted). */
const HOLD_PACKETS = 500_000;
const HOLD_BYTES = 256 * 1024 * 1024;

const PENDING: Label = { status: 'pending' };
const NOT_A_FLOW: Label = { status: 'unknown', reason: 'not-found' };

export function registerCapture(program: Command): void {
  addNameOptions(
    program
      .command('capture')
      .description('capture to a pcapng file whose packets carry their program (comment and process id)')
      .requiredOption('-i, --interface <device...>', 'devices to capture on (`any` for all)')
      .requiredOption('-w, --write <file>', 'the pcapng file to write, or - for standard output')
      .option('-c, --count <n>', 'stop after this many packets', integer('--count', 1))
      .option('-d, --duration <seconds>', 'stop after this many seconds', integer('--duration', 1))
      .option('-s, --snaplen <bytes>', 'bytes kept of each packet (default 262144)', integer('--snaplen', 64))
      .option(
        '-B, --buffer-size <KiB>',
        'kernel ring per device, in KiB (default 65536)',
        integer('--buffer-size', 64),
      )
      .option('--promiscuous', 'also capture packets to other hosts (off by default)')
      .option(
        '--immediate-mode',
        'hand each packet over as the kernel has it, not in blocks of up to 2 ms (more CPU; for live readers)',
      )
      .option(
        '-U, --packet-buffered',
        'write each packet out as soon as it is written (by the end of its batch), not 1 MiB at a time',
      )
      .option('--no-ebpf', 'do not load the eBPF owner programs: owners from the socket table only')
      .option(
        '--reader-cpu <cpu>',
        "read packets on this CPU alone, this process's other threads off it (Linux)",
        integer('--reader-cpu', 0, 1023),
      )
      .option('--json', 'print the summary at the end as JSON (on stderr when writing to standard output)')
      .argument('[filter...]', 'BPF filter, e.g. tcp port 443'),
  )
    .addHelpText(
      'after',
      [
        '',
        'Each packet of a flow whose program is known gets the comment "pid=<pid> name=<name> path=<path>"',
        'and the epb_processid_threadid option; packets wait up to 3 s for their flow to be attributed.',
        'The comment goes on with the remote end: "remote_name=<name> remote_name_source=<tls-sni|quic-sni|',
        'http-host|dns> country=<CC> asn=<n>", as far as they are known (no reverse DNS here).',
        'At the end it says, as tcpdump does, what was written and what the kernel or netwho dropped, and',
        'writes the same figures to the file as pcapng Interface Statistics Blocks (capinfos shows them).',
        '',
        'Examples:',
        '  sudo netwho capture -i eth0 -w out.pcapng -c 1000 tcp port 443',
        '  sudo netwho capture -i any -w - udp port 53 | tshark -r - -T fields -e frame.comment',
        '  sudo netwho capture -i any -w - -U --immediate-mode | wireshark -k -i -',
      ].join('\n'),
    )
    .action(async (filterWords: string[], options) => {
      const toStdout = options.write === '-';
      const limit = options.count ?? Number.POSITIVE_INFINITY;
      const held = new HeldPackets({ maxBytes: HOLD_BYTES, maxPackets: HOLD_PACKETS, maxWaitMs: HOLD_MS });
      const devices: string[] = [];
      const deviceIndex = new Map<string, number>();
      let monitor: CaptureMonitor | undefined;
      let writer: PcapngWriter | undefined;
      let seen = 0;
      let written = 0;
      let labelled = 0;
      let outputClosed = false;
      const comments = new Map<number, FlowComment>();
      // -U: what was written goes out once the packets at hand are handled (one write for a batch).
      let flushing = false;
      const flushSoon = () => {
        if (flushing) return;
        flushing = true;
        setImmediate(() => {
          flushing = false;
          if (outputClosed || !writer) return;
          try {
            writer.flush();
          } catch (error) {
            if (error instanceof CaptureError && error.code === 'E_OUTPUT_CLOSED') outputClosed = true;
            else throw error;
          }
        });
      };

      // A flow's labels: its local end's, and its remote end's when that is a program here too.
      const labelOf = (flowId: number): Ends =>
        flowId < 0
          ? { local: NOT_A_FLOW }
          : { local: monitor?.labelOf(flowId) ?? PENDING, peer: monitor?.peerLabelOf(flowId) };
      const settled = (ends: Ends) => ends.local.status !== 'pending' && ends.peer?.status !== 'pending';
      const packet = {
        data: new Uint8Array(0) as Uint8Array,
        seconds: 0,
        nanoseconds: 0,
        originalLength: 0,
        interfaceId: 0,
        comment: undefined as string | undefined,
        processId: undefined as number | undefined,
      };
      const write = (h: HeldPacket, ends: Ends) => {
        if (outputClosed) return;
        const known = ends.local.status === 'known' ? ends.local.process : undefined;
        const peer = ends.peer?.status === 'known' ? ends.peer.process : undefined;
        packet.data = h.data;
        packet.seconds = h.seconds;
        packet.nanoseconds = h.nanoseconds;
        packet.originalLength = h.wireLength;
        packet.interfaceId = h.device;
        packet.comment =
          known || peer || h.flowId >= 0 ? commentOf(comments, h.flowId, known, peer, monitor) : undefined;
        // The sender's pid: the local end's for what it sent, the remote end's when that is ours too.
        packet.processId = h.outgoing ? known?.pid : (peer?.pid ?? known?.pid);
        try {
          writer!.writePacket(packet);
        } catch (error) {
          if (error instanceof CaptureError && error.code === 'E_OUTPUT_CLOSED') {
            outputClosed = true;
            return;
          }
          throw error;
        }
        written++;
        if (known) labelled++;
        if (options.packetBuffered) flushSoon();
      };
      const onPacket = (p: LivePacket, flowId: number, outgoing: boolean) => {
        if (seen >= limit) return;
        seen++;
        held.push(p, flowId, deviceIndex.get(p.device) ?? 0, outgoing, performance.now(), labelOf, write);
      };

      const choice = openMonitor({
        devices: options.interface,
        filter: filterWords.join(' ') || undefined,
        capture: 'required',
        onPacket,
        snapLength: options.snaplen ?? 262144,
        bufferSize: (options.bufferSize ?? 65536) * 1024,
        promiscuous: options.promiscuous === true,
        ebpf: options.ebpf !== false,
        // A file wants throughput, as tcpdump's default does: packets in the ring's blocks.
        immediate: options.immediateMode === true,
        ...(options.readerCpu !== undefined && { readerCpu: options.readerCpu }),
        // No reverse DNS: its queries would land in the capture.
        names: namesFrom({ ...options, dns: false }),
      });
      monitor = requireCaptureMonitor(choice);
      if (choice.readerCpuUnbound) process.stderr.write(`netwho: ${choice.readerCpuUnbound}\n`);
      try {
        writer = new PcapngWriter(toStdout ? new FileDescriptorSink(1) : options.write);
      } catch (error) {
        monitor.close();
        throw new CliError(`cannot write ${options.write}: ${(error as Error).message}`, Exit.PERMISSION);
      }
      const startTime = wallTime();
      for (const device of monitor.capture.devices) {
        deviceIndex.set(device, devices.length);
        devices.push(device);
        writer.addInterface({
          linkType: monitor.capture.linkTypeOf(device) ?? 1,
          name: device,
          snapLength: options.snaplen ?? 262144,
        });
      }
      const end = options.duration ? Date.now() + options.duration * 1000 : Number.POSITIVE_INFINITY;
      let stopped = false;
      const onSignal = () => {
        stopped = true;
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let deviceErrors = 0;
      monitor.capture.on('error', (error) => {
        deviceErrors++;
        process.stderr.write(`netwho: ${error.message.replace(/^\[netwho\/capture\] /, '')}\n`);
      });
      let failure: unknown;
      try {
        while (!stopped && !outputClosed && seen < limit && Date.now() < end && !monitor.capture.isClosed) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          held.release(performance.now(), false, labelOf, settled, write);
        }
        // Packets the kernel captured before the stop but this process had not read yet.
        await monitor.capture.drain(250);
        // Give the last flows their lookups (and retries) before writing what is held.
        const settleUntil = performance.now() + HOLD_MS;
        while (held.size > 0 && !outputClosed && performance.now() < settleUntil) {
          held.release(performance.now(), false, labelOf, settled, write);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        held.release(performance.now(), true, labelOf, settled, write);
      } catch (error) {
        failure = error;
      }
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      {
        const stats = monitor.capture.stats();
        const owners = monitor.ownerSources();
        monitor.close();
        const endTime = wallTime();
        const summary: CaptureSummary = {
          file: options.write,
          written,
          labelled,
          writtenBeforeLabel: held.released.waited + held.released.full,
          heldFull: held.released.full,
          backend: stats.backend,
          ...(stats.fallbackReason !== undefined && { fallbackReason: stats.fallbackReason }),
          owners,
          devices: devices.map((name) => {
            const d = stats.devices[name]!;
            return {
              name,
              received: d.received ?? null,
              kernelDropped: d.kernelDropped ?? null,
              netwhoDropped: d.netwhoDropped,
              state: d.state,
            };
          }),
        };
        if (!outputClosed) {
          summary.devices.forEach((d, id) => {
            writer!.writeInterfaceStatistics({
              interfaceId: id,
              start: startTime,
              end: endTime,
              ...(d.received !== null && { received: d.received }),
              ...(d.kernelDropped !== null && { interfaceDropped: d.kernelDropped }),
              osDropped: d.netwhoDropped,
              delivered: stats.devices[d.name]!.delivered,
            });
          });
          try {
            writer.close();
          } catch (error) {
            if (!(error instanceof CaptureError && error.code === 'E_OUTPUT_CLOSED')) throw error;
          }
        }
        if (options.json) process[toStdout ? 'stderr' : 'stdout'].write(`${JSON.stringify(summary)}\n`);
        else for (const line of summaryLines(summary)) process.stderr.write(`netwho: ${line}\n`);
      }
      if (failure) throw failure;
      if (deviceErrors > 0 && written === 0) process.exitCode = Exit.ENVIRONMENT;
    });
}

/** A flow's labels: its local end's, and its remote end's when both are programs here. */
interface Ends {
  local: Label;
  peer?: Label | undefined;
}

interface FlowComment {
  key: string;
  text: string;
  /** The remote end as last asked (a name can come after a flow's first packets), and when. */
  remote: RemoteEnd | undefined;
  askedAt: number;
}

/** How often a flow whose remote end has no name yet asks again (a name comes with its first bytes). */
const REMOTE_RECHECK_MS = 250;

/**
 * The comment naming a flow's programs and its remote end, made once per flow and again when one
 * of them changes (a packet costs no string building): `pid=… name=… path=…` and where it runs
 * (program-comment.ts) for the local end, the same with `peer_` for the remote end when it is a
 * program of this machine too, then `remote_name=… remote_name_source=… country=… asn=…` for what is known of the remote end.
 */
function commentOf(
  cache: Map<number, FlowComment>,
  flowId: number,
  local: CommentEnd | undefined,
  peer: CommentEnd | undefined,
  monitor: CaptureMonitor | undefined,
): string | undefined {
  const cached = cache.get(flowId);
  const now = performance.now();
  let remote = cached?.remote;
  if (flowId >= 0 && (!cached || (!remote?.remoteName && now - cached.askedAt > REMOTE_RECHECK_MS)))
    remote = monitor?.remoteOf(flowId) ?? remote;
  const key = `${local?.pid ?? ''}/${peer?.pid ?? ''}/${remote?.remoteName ?? ''}`;
  if (cached && cached.key === key) {
    if (remote !== cached.remote) cached.askedAt = now;
    return cached.text || undefined;
  }
  const text = [local && formatEnd(local), peer && formatEnd(peer, 'peer_'), remote && remoteText(remote)]
    .filter(Boolean)
    .join(' ');
  if (cache.size > 100_000) cache.clear(); // bounded: a long capture over many flows
  cache.set(flowId, { key, text, remote, askedAt: now });
  return text || undefined;
}

function remoteText(r: RemoteEnd): string {
  return [
    r.remoteName && `remote_name=${r.remoteName} remote_name_source=${r.remoteNameSource}`,
    r.country && `country=${r.country}`,
    r.asn !== undefined && `asn=${r.asn}`,
  ]
    .filter(Boolean)
    .join(' ');
}

/** Now on the clock packets are stamped with (for the file's capture start and end). */
function wallTime(): { seconds: number; nanoseconds: number } {
  const now = wallClock.now();
  const seconds = Math.floor(now / 1000);
  return { seconds, nanoseconds: Math.floor((now - seconds * 1000) * 1e6) };
}

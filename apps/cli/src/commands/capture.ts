import type { CaptureMonitor, Label } from '@netwho/attributor';
import { type LivePacket, PcapngWriter } from '@netwho/capture';
import type { Command } from 'commander';
import { CliError, Exit, integer } from '../errors';
import { print } from '../output/style';
import { openMonitor, requireCaptureMonitor } from '../watch/monitor';

/** How long a packet may wait for its flow's program before it is written without one. */
const HOLD_MS = 3000;
/** Most packets held at once (their bytes are copied); past it the oldest is written as it is. */
const HOLD_MAX = 50_000;

interface Held {
  flowId: number;
  heldAt: number;
  data: Uint8Array;
  seconds: number;
  nanoseconds: number;
  device: string;
}

export function registerCapture(program: Command): void {
  program
    .command('capture')
    .description('capture to a pcapng file whose packets carry their program (comment and process id)')
    .requiredOption('-i, --interface <device...>', 'devices to capture on')
    .requiredOption('-w, --write <file>', 'the pcapng file to write')
    .option('-c, --count <n>', 'stop after this many packets', integer('--count', 1))
    .option('-d, --duration <seconds>', 'stop after this many seconds', integer('--duration', 1))
    .argument('[filter...]', 'BPF filter, e.g. tcp port 443')
    .addHelpText(
      'after',
      [
        '',
        'Each packet of a flow whose program is known gets the comment "pid=<pid> name=<name> path=<path>"',
        'and the epb_processid_threadid option; packets wait up to 3 s for their flow to be attributed.',
        '',
        'Examples:',
        '  sudo netwho capture -i eth0 -w out.pcapng -c 1000 tcp port 443',
        '  tshark -r out.pcapng -T fields -e frame.comment',
      ].join('\n'),
    )
    .action(async (filterWords: string[], options) => {
      const held: Held[] = [];
      let writer: PcapngWriter | undefined;
      const interfaces = new Map<string, number>();
      let written = 0;
      let labelled = 0;
      let monitor: CaptureMonitor | undefined;
      const limit = options.count ?? Number.POSITIVE_INFINITY;
      let seen = 0;

      const write = (h: Held, label: Label) => {
        const known = label.status === 'known' ? label.process : undefined;
        writer!.writePacket({
          data: h.data,
          seconds: h.seconds,
          nanoseconds: h.nanoseconds,
          interfaceId: interfaces.get(h.device) ?? 0,
          ...(known && {
            comment: `pid=${known.pid} name=${known.name} path=${known.path}`,
            processId: known.pid,
          }),
        });
        written++;
        if (known) labelled++;
      };
      /** Writes held packets, in order, as far as their labels are settled (or they waited long enough). */
      const drain = (all: boolean) => {
        const now = Date.now();
        while (held.length > 0) {
          const h = held[0]!;
          const label =
            h.flowId >= 0
              ? monitor!.labelOf(h.flowId)
              : ({ status: 'unknown', reason: 'not-found' } as Label);
          if (label.status === 'pending' && !all && now - h.heldAt < HOLD_MS && held.length < HOLD_MAX) break;
          held.shift();
          write(h, label);
        }
      };
      const onPacket = (p: LivePacket, flowId: number) => {
        if (seen >= limit) return;
        seen++;
        held.push({
          flowId,
          heldAt: Date.now(),
          data: new Uint8Array(p.data),
          seconds: p.seconds,
          nanoseconds: p.nanoseconds,
          device: p.device,
        });
      };

      const choice = openMonitor({
        devices: options.interface,
        filter: filterWords.join(' ') || undefined,
        capture: 'required',
        onPacket,
      });
      monitor = requireCaptureMonitor(choice);
      try {
        writer = new PcapngWriter(options.write);
      } catch (error) {
        monitor.close();
        throw new CliError(`cannot write ${options.write}: ${(error as Error).message}`, Exit.PERMISSION);
      }
      for (const device of monitor.capture.devices) {
        interfaces.set(device, writer.addInterface({ linkType: linkTypeOf(monitor, device), name: device }));
      }
      const end = options.duration ? Date.now() + options.duration * 1000 : Number.POSITIVE_INFINITY;
      let stopped = false;
      const onSignal = () => {
        stopped = true;
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        while (!stopped && seen < limit && Date.now() < end) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          drain(false);
        }
        // Packets the kernel captured before the stop but this process had not read yet.
        await monitor.capture.drain(250);
        // Give the last flows their lookups (and retries) before writing what is held.
        const settleUntil = Date.now() + HOLD_MS;
        while (held.length > 0 && Date.now() < settleUntil) {
          drain(false);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        drain(true);
      } finally {
        monitor.close();
        writer.close();
      }
      process.stderr.write(
        `netwho: ${written} packets written to ${options.write}, ${labelled} with their program\n`,
      );
      if (written === 0) print('no packets captured');
    });
}

function linkTypeOf(monitor: CaptureMonitor, device: string): number {
  return monitor.capture.linkTypeOf(device) ?? 1;
}

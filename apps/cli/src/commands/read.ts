import { existsSync } from 'node:fs';
import {
  CaptureError,
  DecodedPacket,
  decodePacket,
  type Flow,
  FlowNames,
  FlowTable,
  parseCaptureFile,
  protocolName,
} from '@netwho/capture';
import type { AddressScope, GeoInfo } from '@netwho/geo';
import { cgroupLabel } from '@netwho/listeners';
import type { Command } from 'commander';
import { openBlocklist } from '../alerts/setup';
import { type CommentEnd, parseProgramComment } from '../capture/program-comment';
import { CliError, Exit, toCliError } from '../errors';
import { addNameOptions, openGeo } from '../names/options';
import { bytes, endpoint } from '../output/format';
import { colors, print, printJson } from '../output/style';
import { formatTable } from '../output/table';
import { placeOf } from '../watch/views';

interface FlowSummary {
  protocol: string;
  local: { address: string; port: number };
  remote: { address: string; port: number };
  packets: number;
  bytes: number;
  bytesOut: number;
  bytesIn: number;
  firstSeen: string;
  lastSeen: string;
  /** From the pcapng packet comments netwho capture writes ("pid=... name=... path=..."), if any. */
  program: string | null;
  pid: number | null;
  path: string | null;
  /** Where that program ran (Linux): its systemd unit, container and pod, null when none or not said. */
  unit: string | null;
  container: { runtime: string; id: string; name: string | null } | null;
  pod: { uid: string; qos: string } | null;
  /** The remote end's program, when it was a program of the capturing machine too (loopback, a local container). */
  peerPid: number | null;
  peerName: string | null;
  /** The remote end's name: what the program asked for (TLS/QUIC SNI, HTTP Host), else the DNS answer seen for the address. */
  remoteName: string | null;
  remoteNameSource: 'tls-sni' | 'quic-sni' | 'http-host' | 'dns' | null;
  /** Where the remote address is (@netwho/geo): its scope, and for a public one its country and AS; absent with --no-geo. */
  remoteScope?: AddressScope;
  country?: string | null;
  asn?: number | null;
  asOrg?: string | null;
  /** With --blocklist: true when the remote address is listed. */
  blocked?: boolean;
}

export function registerRead(program: Command): void {
  addNameOptions(
    program
      .command('read')
      .description(
        'summarise a pcap or pcapng file per flow (with the program, for files from netwho capture)',
      )
      .argument('<file>', 'a .pcap or .pcapng file')
      .option('--json', 'print JSON: { packets, bytes, flows: [...] }')
      .option('-n, --top <n>', 'show the n biggest flows (default all)')
      .option('--blocklist <file...>', 'mark flows to addresses in these files (IPs and CIDRs, one a line)'),
  )
    .addHelpText('after', '\nExamples:\n  netwho read out.pcapng\n  netwho read trace.pcap --json --top 20')
    .action(async (file: string, options) => {
      const table = new FlowTable({
        maxFlows: 1_000_000,
        idleTimeoutMs: Number.MAX_SAFE_INTEGER,
        localAddresses: [],
      });
      const ended: Flow[] = [];
      table.on('end', (flow) => ended.push(flow));
      const programs = new Map<number, { local?: CommentEnd; peer?: CommentEnd }>();
      const names = new FlowNames();
      const geo = openGeo(options);
      const blocklist = options.blocklist?.length ? openBlocklist(options.blocklist).list : undefined;
      if (!existsSync(file)) throw new CliError(`no such file: ${file}`, Exit.NOT_FOUND);
      const p = new DecodedPacket();
      let packets = 0;
      let totalBytes = 0;
      let format = '?';
      const onPacket = (r: Parameters<Parameters<typeof parseCaptureFile>[1]>[0]) => {
        packets++;
        totalBytes += r.originalLength;
        decodePacket(r.buffer, r.linkType, p, r.offset, r.offset + r.capturedLength);
        const time = r.seconds * 1000 + r.nanoseconds / 1e6;
        const id = table.add(p, time, r.originalLength);
        names.add(p, id, table.lastOutgoing, time, table.lastSent);
        const known = id >= 0 ? programs.get(id) : undefined;
        // The first comment that names an end names it for the flow; a later one may add the other
        // end (a server end is often labelled after the flow's first packets were written).
        const wanted = !known?.local || (!known.peer && r.comment?.includes(' peer_pid='));
        if (id >= 0 && r.comment && wanted) {
          const ends = parseProgramComment(r.comment);
          if (ends.local || ends.peer) programs.set(id, { ...ends, ...known });
        }
      };
      try {
        format = (await parseCaptureFile(file, onPacket)).info.format;
      } catch (error) {
        // A truncated file (a capture still being written, or cut short) is summarised as far as it goes.
        if (!(error instanceof CaptureError && error.code === 'E_FILE_TRUNCATED')) {
          const cli = toCliError(error);
          throw new CliError(`${file}: ${cli.message}`, cli.exitCode);
        }
        format = error.format ?? format;
        process.stderr.write(
          `netwho: ${file} is truncated: summary of the ${packets} whole packets before the cut\n`,
        );
      }
      const units = new Map<FlowSummary, string>(); // the UNIT column: a short name for where each ran
      const flows = [...ended, ...table.flows()]
        .map((f): FlowSummary => {
          const name = names.nameOf(f.id, f.remote.address, f.lastSeen);
          const { local, peer } = programs.get(f.id) ?? {};
          const cg = local?.cgroup;
          const unit = cg && cgroupLabel({ path: '', ...cg });
          const summary: FlowSummary = {
            protocol: protocolName(f.protocol),
            local: f.local,
            remote: f.remote,
            packets: f.packetsIn + f.packetsOut,
            bytes: f.bytesIn + f.bytesOut,
            bytesOut: f.bytesOut,
            bytesIn: f.bytesIn,
            firstSeen: new Date(f.firstSeen).toISOString(),
            lastSeen: new Date(f.lastSeen).toISOString(),
            program: local?.name ?? null,
            pid: local?.pid ?? null,
            path: local?.path ?? null,
            unit: cg?.unit ?? null,
            container: cg?.container ? { ...cg.container, name: cg.container.name ?? null } : null,
            pod: cg?.pod ?? null,
            peerPid: peer?.pid ?? null,
            peerName: peer?.name ?? null,
            remoteName: name?.name ?? null,
            remoteNameSource: name?.source ?? null,
            ...(geo && placeFields(geo.lookup(f.remote.address))),
            ...(blocklist && { blocked: blocklist.has(f.remote.address) }),
          };
          if (unit) units.set(summary, unit);
          return summary;
        })
        .sort((a, b) => b.bytes - a.bytes)
        .slice(0, options.top ? Number(options.top) : undefined);
      const blocked = flows.filter((f) => f.blocked);
      for (const f of blocked.slice(0, 20))
        process.stderr.write(
          `netwho: alert: ${f.program ?? 'a flow'} talked to ${f.remoteName ?? f.remote.address} (${endpoint(f.remote)}), which is in a blocklist\n`,
        );
      if (blocked.length > 20)
        process.stderr.write(`netwho: alert: ${blocked.length - 20} more flows to blocklisted addresses\n`);
      if (options.json) {
        printJson({ packets, bytes: totalBytes, format, flows });
        return;
      }
      print(`${file}: ${format}, ${packets} packets, ${bytes(totalBytes)}, ${flows.length} flows`);
      // PEER (the program at the other end, when it was ours too) and UNIT only when some flow has one.
      const withPeer = flows.some((f) => f.peerPid !== null);
      const withUnit = flows.some((f) => units.has(f));
      const rows = flows.map((f) => [
        f.protocol,
        endpoint(f.local),
        endpoint(f.remote),
        f.remoteName ?? '',
        placeOf(f),
        String(f.packets),
        bytes(f.bytes),
        f.program ? `${f.program} (${f.pid})` : '',
        ...(withPeer ? [f.peerName ? `${f.peerName} (${f.peerPid})` : ''] : []),
        ...(withUnit ? [units.get(f) ?? ''] : []),
      ]);
      for (const line of formatTable(
        [
          ...['PROTO', 'FROM', 'TO', 'NAME', 'WHERE', 'PACKETS', 'BYTES', 'PROGRAM'],
          ...(withPeer ? ['PEER'] : []),
          ...(withUnit ? ['UNIT'] : []),
        ],
        rows,
        {
          style: colors.bold,
        },
      )) {
        print(line);
      }
    });
}

/** A GeoInfo as JSON fields: the scope always, country and AS as null when unknown. */
function placeFields(g: GeoInfo) {
  return {
    remoteScope: g.scope,
    country: g.country ?? null,
    asn: g.asn ?? null,
    asOrg: g.asOrg ?? null,
  };
}

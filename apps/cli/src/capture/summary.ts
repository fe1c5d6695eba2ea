/** What `netwho capture` reports at the end (`--json` prints it as it is). */
export interface CaptureSummary {
  /** The file written, `-` for standard output. */
  file: string;
  /** Packets written to the file, and how many of them name their program. */
  written: number;
  labelled: number;
  /** Packets written before their flow's program was known: they waited the longest allowed, or the wait queue was full. */
  writtenBeforeLabel: number;
  /** Of those, packets written early because the wait queue was full. */
  heldFull: number;
  /** The capture engine (`ring`: netwho's own, `cap`: libpcap) and, on Linux, why libpcap was used. */
  backend: 'ring' | 'cap';
  fallbackReason?: string;
  /** Where the labels came from: eBPF (and why it was off), the socket table; the connections each labelled. */
  owners: {
    ebpf: boolean;
    ebpfReason?: string;
    ebpfMissing?: Array<{ hook: string; reason: string }>;
    fromEbpf: number;
    fromSocketTable: number;
  };
  devices: Array<{
    name: string;
    /** Packets the filter accepted (tcpdump's "received by filter"); null where the OS does not say. */
    received: number | null;
    /** Dropped by the kernel because the ring was full (tcpdump's "dropped by kernel"); null where unknown. */
    kernelDropped: number | null;
    /** Dropped by netwho's own queues. */
    netwhoDropped: number;
    state: 'up' | 'down' | 'gone';
  }>;
}

const sum = (values: Array<number | null>) =>
  values.some((v) => v === null) ? null : values.reduce<number>((a, v) => a + (v ?? 0), 0);

/** tcpdump's closing lines, with what netwho adds: written / with their program, then received / dropped. */
export function summaryLines(s: CaptureSummary): string[] {
  const where = s.file === '-' ? 'standard output' : s.file;
  const lines = [`${s.written} packets written to ${where}, ${s.labelled} with their program`];
  if (s.writtenBeforeLabel > 0) {
    lines.push(
      `${s.writtenBeforeLabel} written before their program was known` +
        (s.heldFull > 0 ? ` (${s.heldFull} because the wait queue was full)` : ''),
    );
  }
  const received = sum(s.devices.map((d) => d.received));
  const kernel = sum(s.devices.map((d) => d.kernelDropped));
  const netwho = s.devices.reduce((a, d) => a + d.netwhoDropped, 0);
  lines.push(
    `${received ?? 'unknown'} packets received by filter, ${kernel ?? 'unknown'} dropped by kernel, ${netwho} dropped by netwho`,
  );
  if (s.fallbackReason) lines.push(`captured with libpcap: ${s.fallbackReason}`);
  const o = s.owners;
  lines.push(
    `owners: ${o.fromEbpf} connection ends from eBPF, ${o.fromSocketTable} from the socket table` +
      (o.ebpf ? '' : ` (eBPF off: ${o.ebpfReason ?? 'not available'})`),
  );
  for (const m of o.ebpfMissing ?? []) lines.push(`eBPF hook ${m.hook} is off: ${m.reason}`);
  for (const d of s.devices)
    if (d.state !== 'up') lines.push(`${d.name} is ${d.state === 'gone' ? 'gone' : 'down'}`);
  return lines;
}

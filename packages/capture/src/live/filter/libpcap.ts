import koffi from 'koffi';

/** The libpcap calls used to compile filters (pcap_compile on a "dead" handle, so no capture is opened). */
export interface PcapLib {
  pcap_open_dead(linkType: number, snapLength: number): unknown;
  pcap_compile(handle: unknown, program: Buffer, filter: string, optimize: number, netmask: number): number;
  pcap_freecode(program: Buffer): void;
  pcap_geterr(handle: unknown): string;
  pcap_close(handle: unknown): void;
}

const LIBPCAP_NAMES: Record<string, string[]> = {
  linux: ['libpcap.so.1', 'libpcap.so.0.8', 'libpcap.so'],
  darwin: ['libpcap.A.dylib', 'libpcap.dylib'],
  win32: ['wpcap.dll'],
};

let pcap: PcapLib | null | undefined;

/** libpcap, bound on first use; null when it is not installed. */
export function libpcap(): PcapLib | null {
  if (pcap !== undefined) return pcap;
  pcap = null;
  for (const name of LIBPCAP_NAMES[process.platform] ?? ['libpcap.so']) {
    try {
      const lib = koffi.load(name);
      pcap = {
        pcap_open_dead: lib.func('void *pcap_open_dead(int linktype, int snaplen)'),
        // struct bpf_program { u_int bf_len; struct bpf_insn *bf_insns; }: 16 bytes on 64-bit.
        pcap_compile: lib.func(
          'int pcap_compile(void *p, void *fp, const char *str, int optimize, uint32_t netmask)',
        ),
        pcap_freecode: lib.func('void pcap_freecode(void *fp)'),
        pcap_geterr: lib.func('const char *pcap_geterr(void *p)'),
        pcap_close: lib.func('void pcap_close(void *p)'),
      } as PcapLib;
      break;
    } catch {
      // try the next name
    }
  }
  return pcap;
}

/** PCAP_NETMASK_UNKNOWN: filters that need the netmask (ip broadcast) still compile. */
export const NETMASK_UNKNOWN = 0xffffffff;

/** The instructions of a compiled struct bpf_program, copied out of libpcap's memory. */
export function programInstructions(program: Buffer): Uint8Array {
  const count = program.readUInt32LE(0);
  const pointer = koffi.decode(program, 8, 'void *');
  return new Uint8Array(koffi.view(pointer, count * 8).slice(0));
}

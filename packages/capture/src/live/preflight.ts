import koffi from 'koffi';

/**
 * Checks made before cap.open(), because a Cap whose open() failed crashes the process later (its
 * destructor stops a libuv poll handle that was never started). So cap.open() is only called once
 * we know the filter compiles and, on Linux, that we may open a packet socket.
 */

interface PcapLib {
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
function libpcap(): PcapLib | null {
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

/** libpcap's complaint about `filter`, or undefined if it compiles (or libpcap cannot be asked). */
export function filterProblem(filter: string, linkType = 1): string | undefined {
  const lib = libpcap();
  if (!lib || filter === '') return undefined;
  const handle = lib.pcap_open_dead(linkType, 65535);
  if (!handle) return undefined;
  try {
    const program = Buffer.alloc(16);
    // PCAP_NETMASK_UNKNOWN: filters that need the netmask (ip broadcast) still compile.
    if (lib.pcap_compile(handle, program, filter, 1, 0xffffffff) !== 0) return lib.pcap_geterr(handle);
    lib.pcap_freecode(program);
    return undefined;
  } finally {
    lib.pcap_close(handle);
  }
}

let socketCalls: { socket(d: number, t: number, p: number): number; close(fd: number): number } | undefined;

/** Linux: the errno of opening a packet socket (EPERM without CAP_NET_RAW), 0 if allowed or not Linux. */
export function packetSocketErrno(): number {
  if (process.platform !== 'linux') return 0;
  if (!socketCalls) {
    const lib = koffi.load('libc.so.6');
    socketCalls = { socket: lib.func('int socket(int, int, int)'), close: lib.func('int close(int)') };
  }
  const fd = socketCalls.socket(17 /* AF_PACKET */, 3 /* SOCK_RAW */, 0);
  if (fd < 0) return koffi.errno();
  socketCalls.close(fd);
  return 0;
}

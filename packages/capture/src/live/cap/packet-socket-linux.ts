import { readdirSync, readlinkSync } from 'node:fs';
import koffi from 'koffi';

/**
 * The AF_PACKET socket behind a capture `cap` opened, found as the one that appeared in
 * /proc/self/fd during open(). cap exposes neither pcap_stats() nor the socket, so on Linux we ask
 * the kernel directly:
 * - drops: getsockopt(PACKET_STATISTICS), what libpcap's pcap_stats() reads (<linux/if_packet.h>:
 *   struct tpacket_stats_v3 { tp_packets, tp_drops, tp_freeze_q_cnt }, counters that reset on each
 *   read and where tp_packets includes the drops);
 * - unread packets: poll(2), which reports POLLIN while the newest frame of the ring is still the
 *   reader's (net/packet/af_packet.c, packet_poll).
 */
const SOL_SOCKET = 1;
const SO_DOMAIN = 39;
const AF_PACKET = 17;
const SOL_PACKET = 263;
const PACKET_STATISTICS = 6;

const POLLIN = 1;

interface Libc {
  getsockopt(fd: number, level: number, name: number, value: Buffer, length: Buffer): number;
  /** struct pollfd { int fd; short events; short revents; } (<poll.h>), 8 bytes each. */
  poll(fds: Buffer, count: number, timeoutMs: number): number;
}
let bound: Libc | undefined;
function libc(): Libc {
  if (!bound) {
    const lib = koffi.load('libc.so.6');
    bound = {
      getsockopt: lib.func(
        'int getsockopt(int fd, int level, int name, void *value, void *length)',
      ) as Libc['getsockopt'],
      poll: lib.func('int poll(void *fds, unsigned long count, int timeout)') as Libc['poll'],
    };
  }
  return bound;
}

/** The socket fds this process has open now. */
export function socketFds(): Set<number> {
  const fds = new Set<number>();
  if (process.platform !== 'linux') return fds;
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${name}`).startsWith('socket:')) fds.add(Number(name));
    } catch {
      // closed meanwhile
    }
  }
  return fds;
}

/** One capture socket: its accumulated kernel counters, and whether packets wait in its ring. */
export class PacketSocket {
  received = 0;
  dropped = 0;
  private readonly value = Buffer.alloc(12);
  private readonly length = Buffer.alloc(4);
  private readonly pollFd = Buffer.alloc(8);

  private constructor(private readonly fd: number) {
    this.pollFd.writeInt32LE(fd, 0);
  }

  /** Finds the AF_PACKET socket among the fds that appeared since `before`; undefined if none. */
  static find(before: Set<number>): PacketSocket | undefined {
    if (process.platform !== 'linux') return undefined;
    for (const fd of socketFds()) {
      if (before.has(fd)) continue;
      const value = Buffer.alloc(4);
      const length = Buffer.alloc(4);
      length.writeUInt32LE(4);
      if (
        libc().getsockopt(fd, SOL_SOCKET, SO_DOMAIN, value, length) === 0 &&
        value.readInt32LE() === AF_PACKET
      ) {
        return new PacketSocket(fd);
      }
    }
    return undefined;
  }

  /** Adds what the kernel counted since the last read; returns false if the socket is gone. */
  updateStats(): boolean {
    this.length.writeUInt32LE(12);
    if (libc().getsockopt(this.fd, SOL_PACKET, PACKET_STATISTICS, this.value, this.length) !== 0)
      return false;
    this.received += this.value.readUInt32LE(0);
    this.dropped += this.value.readUInt32LE(4);
    return true;
  }

  /** True while the kernel holds captured packets that have not been read from the ring. */
  hasUnread(): boolean {
    this.pollFd.writeInt16LE(POLLIN, 4);
    this.pollFd.writeInt16LE(0, 6);
    return libc().poll(this.pollFd, 1, 0) > 0 && (this.pollFd.readInt16LE(6) & POLLIN) !== 0;
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

import { readdirSync, readlinkSync } from 'node:fs';
import koffi from 'koffi';

/**
 * Drop statistics for a capture `cap` opened. cap does not expose pcap_stats(), so on Linux we ask
 * the kernel what libpcap's pcap_stats() would: getsockopt(PACKET_STATISTICS) on the capture's
 * AF_PACKET socket (<linux/if_packet.h>: struct tpacket_stats_v3 { tp_packets, tp_drops,
 * tp_freeze_q_cnt }, counters that reset on each read and where tp_packets includes the drops).
 * The socket is found as the AF_PACKET socket that appeared in /proc/self/fd during open().
 */
const SOL_SOCKET = 1;
const SO_DOMAIN = 39;
const AF_PACKET = 17;
const SOL_PACKET = 263;
const PACKET_STATISTICS = 6;

interface SockOpt {
  getsockopt(fd: number, level: number, name: number, value: Buffer, length: Buffer): number;
}
let bound: SockOpt | undefined;
function libc(): SockOpt {
  bound ??= {
    getsockopt: koffi
      .load('libc.so.6')
      .func(
        'int getsockopt(int fd, int level, int name, void *value, void *length)',
      ) as SockOpt['getsockopt'],
  };
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

/** Reads and accumulates the kernel's counters for one capture socket. */
export class PacketSocketStats {
  received = 0;
  dropped = 0;
  private readonly value = Buffer.alloc(12);
  private readonly length = Buffer.alloc(4);

  private constructor(private readonly fd: number) {}

  /** Finds the AF_PACKET socket among the fds that appeared since `before`; undefined if none. */
  static find(before: Set<number>): PacketSocketStats | undefined {
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
        return new PacketSocketStats(fd);
      }
    }
    return undefined;
  }

  /** Adds what the kernel counted since the last read; returns false if the socket is gone. */
  update(): boolean {
    this.length.writeUInt32LE(12);
    if (libc().getsockopt(this.fd, SOL_PACKET, PACKET_STATISTICS, this.value, this.length) !== 0)
      return false;
    this.received += this.value.readUInt32LE(0);
    this.dropped += this.value.readUInt32LE(4);
    return true;
  }
}

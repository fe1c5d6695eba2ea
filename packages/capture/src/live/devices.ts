import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { capModule } from './cap/binding';

export interface DeviceAddress {
  address: string;
  netmask?: string;
  broadcast?: string;
}

export interface CaptureDevice {
  name: string;
  description?: string;
  addresses: DeviceAddress[];
  loopback: boolean;
  /** Administratively up and with a carrier (Linux: IFF_UP and IFF_RUNNING); undefined when unknowable. */
  up: boolean | undefined;
  /** Linux interface flag names (IFF_*), e.g. ['UP', 'BROADCAST', 'RUNNING', 'MULTICAST']. */
  flags: string[];
}

/** <linux/if.h> net_device_flags, as /sys/class/net/<name>/flags shows them. */
const IFF = [
  [0x1, 'UP'],
  [0x2, 'BROADCAST'],
  [0x8, 'LOOPBACK'],
  [0x10, 'POINTOPOINT'],
  [0x40, 'RUNNING'],
  [0x100, 'PROMISC'],
  [0x1000, 'MULTICAST'],
] as const;

/** Linux: the interface's IFF_* flags, with IFF_RUNNING added when its operstate says it can pass packets. */
function linuxFlags(name: string): number | undefined {
  if (process.platform !== 'linux' || name.includes('/')) return undefined;
  try {
    const flags = Number.parseInt(readFileSync(`/sys/class/net/${name}/flags`, 'latin1'), 16);
    // sysfs shows the configured flags only; "unknown" is what loopback and tun devices report.
    const operstate = readFileSync(`/sys/class/net/${name}/operstate`, 'latin1').trim();
    return operstate === 'up' || operstate === 'unknown' ? flags | 0x40 : flags;
  } catch {
    return undefined; // not a kernel interface (any, nflog, dbus-*, ...)
  }
}

/** Every device libpcap can capture on, with addresses and state. */
export function listDevices(): CaptureDevice[] {
  const withAddresses = new Set(Object.keys(networkInterfaces()));
  return capModule()
    .Cap.deviceList()
    .map((d) => {
      const bits = linuxFlags(d.name);
      const flags = bits === undefined ? [] : IFF.filter(([bit]) => bits & bit).map(([, n]) => n);
      const device: CaptureDevice = {
        name: d.name,
        addresses: d.addresses.map((a) => ({
          address: a.addr,
          ...(a.netmask ? { netmask: a.netmask } : {}),
          ...(a.broadaddr ? { broadcast: a.broadaddr } : {}),
        })),
        loopback: d.flags === 'PCAP_IF_LOOPBACK' || (bits !== undefined && (bits & 0x8) !== 0),
        up: bits !== undefined ? (bits & 0x41) === 0x41 : withAddresses.has(d.name) ? true : undefined,
        flags,
      };
      if (d.description) device.description = d.description;
      return device;
    });
}

/**
 * The device a capture should use when none is named: the one carrying the default route (Linux:
 * /proc/net/route, then /proc/net/ipv6_route), else the first up, non-loopback device with an
 * address, else the loopback device.
 */
export function defaultDevice(devices: CaptureDevice[] = listDevices()): string | undefined {
  const names = new Set(devices.map((d) => d.name));
  const routed = defaultRouteDevice();
  if (routed && names.has(routed)) return routed;
  const candidate =
    devices.find((d) => !d.loopback && d.up !== false && d.addresses.length > 0) ??
    devices.find((d) => d.loopback);
  return candidate?.name;
}

function defaultRouteDevice(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    // Iface Destination Gateway Flags ...: the default route has destination 00000000.
    for (const line of readFileSync('/proc/net/route', 'latin1').split('\n').slice(1)) {
      const [iface, destination, , flags] = line.trim().split(/\s+/);
      if (destination === '00000000' && iface && (Number.parseInt(flags ?? '0', 16) & 1) === 1) return iface;
    }
    // dest prefix-len src prefix-len next-hop metric refcnt use flags iface: default is ::/0.
    for (const line of readFileSync('/proc/net/ipv6_route', 'latin1').split('\n')) {
      const fields = line.trim().split(/\s+/);
      if (fields[0] === '0'.repeat(32) && fields[1] === '00' && fields[9] && fields[9] !== 'lo')
        return fields[9];
    }
  } catch {
    // no /proc: fall through to the address-based choice
  }
  return undefined;
}

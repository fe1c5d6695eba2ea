import { createRequire } from 'node:module';
import { CaptureError } from '../../errors';

/** The parts of the `cap` binding (libpcap / Npcap) we use. */
export interface CapHandle {
  open(device: string, filter: string, bufferSize: number, buffer: Buffer): string;
  close(): void;
  setMinBytes?(bytes: number): void;
  on(event: 'packet', listener: (bytes: number, truncated: boolean) => void): void;
  removeAllListeners(event?: string): void;
}

export interface CapDevice {
  name: string;
  description?: string;
  addresses: Array<{ addr: string; netmask?: string; broadaddr?: string; dstaddr?: string }>;
  flags?: string;
}

interface CapModule {
  Cap: { new (): CapHandle; deviceList(): CapDevice[]; findDevice(ip?: string): string | undefined };
}

let loaded: CapModule | undefined;

/** Loads `cap` on first use, so importing this package never needs libpcap. */
export function capModule(): CapModule {
  if (loaded) return loaded;
  try {
    loaded = createRequire(import.meta.url)('cap') as CapModule;
    return loaded;
  } catch (error) {
    throw new CaptureError(
      'E_NO_LIBPCAP',
      process.platform === 'win32'
        ? 'packet capture needs Npcap (https://npcap.com, with WinPcap compatibility) and the cap module'
        : 'packet capture needs libpcap and the `cap` native module (Debian: apt install libpcap-dev, then reinstall)',
      { cause: error },
    );
  }
}

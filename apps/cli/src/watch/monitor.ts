import { CaptureError } from '@netwho/capture';
import {
  CaptureMonitor,
  type CaptureMonitorOptions,
  type NamesOptions,
  SocketTableMonitor,
  type TrafficMonitor,
} from '@netwho/monitor';
import { CliError, Exit, SETCAP_HINT, toCliError } from '../errors';

export interface MonitorChoice {
  monitor: TrafficMonitor;
  /** Said once to the user: what runs and why (e.g. the no-capture fallback). */
  notice: string | undefined;
  /** With readerCpu: why the reader could not be bound (it runs as without). */
  readerCpuUnbound?: string;
}

/**
 * Opens the packet-capture pipeline, or, when capture is not permitted (or libpcap is missing),
 * the socket-table source instead, unless capture was required.
 */
export function openMonitor(options: {
  devices?: string[];
  filter?: string;
  capture: 'auto' | 'never' | 'required';
  onPacket?: CaptureMonitorOptions['onPacket'];
  onConnectionEnd?: CaptureMonitorOptions['onConnectionEnd'];
  snapLength?: number;
  bufferSize?: number;
  promiscuous?: boolean;
  /** How remote ends are named and placed (see names/options.ts). */
  names?: NamesOptions;
  /** false (--no-ebpf): owners from the socket table only, no kernel programs loaded. */
  ebpf?: boolean;
  /** Each packet handed over at once (the monitor's default) or in the ring's blocks (false: less CPU). */
  immediate?: boolean;
  /** --reader-cpu: the thread reading packets on this CPU alone, the process's others off it (LiveCapture's readerCpu). */
  readerCpu?: number;
}): MonitorChoice {
  const names = options.names;
  if (options.capture === 'never') {
    return {
      monitor: new SocketTableMonitor({ ...(names && { names }) }),
      notice: 'no capture (--no-capture): TCP traffic from kernel socket counters',
    };
  }
  try {
    const monitor = CaptureMonitor.open({
      ...(options.devices && options.devices.length > 0 && { device: options.devices }),
      ...(options.filter && { filter: options.filter }),
      ...(options.onPacket && { onPacket: options.onPacket }),
      ...(options.onConnectionEnd && { onConnectionEnd: options.onConnectionEnd }),
      ...(options.snapLength !== undefined && { snapLength: options.snapLength }),
      ...(options.bufferSize !== undefined && { bufferSize: options.bufferSize }),
      ...(options.promiscuous !== undefined && { promiscuous: options.promiscuous }),
      ...(options.immediate !== undefined && { immediate: options.immediate }),
      ...(names && { names }),
      ...(options.ebpf === false && { connections: false as const }),
      ...(options.readerCpu !== undefined && { readerCpu: options.readerCpu }),
    });
    const bound = monitor.capture.stats().readerCpu;
    if (bound && bound.cpu === undefined) {
      return {
        monitor,
        notice: undefined,
        readerCpuUnbound: `--reader-cpu ${options.readerCpu}: not bound (${bound.reason})`,
      };
    }
    return { monitor, notice: undefined };
  } catch (error) {
    const fallback =
      error instanceof CaptureError && (error.code === 'E_PERMISSION' || error.code === 'E_NO_LIBPCAP');
    if (!fallback || options.capture === 'required') throw toCliError(error);
    const why =
      error.code === 'E_PERMISSION' ? 'packet capture is not permitted' : 'libpcap is not installed';
    const fix = error.code === 'E_PERMISSION' ? SETCAP_HINT : 'install libpcap (apt install libpcap0.8)';
    return {
      monitor: new SocketTableMonitor({ ...(names && { names }) }),
      notice: `${why}: showing TCP traffic from kernel socket counters instead (no UDP). To capture: ${fix}`,
    };
  }
}

export function requireCaptureMonitor(choice: MonitorChoice): CaptureMonitor {
  if (choice.monitor instanceof CaptureMonitor) return choice.monitor;
  throw new CliError(`capture is needed here: ${SETCAP_HINT}`, Exit.PERMISSION);
}

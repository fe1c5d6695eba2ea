import { ListenersError } from './errors';
import type { Protocol } from './types';

export function checkPort(port: unknown): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ListenersError(
      'E_INVALID_ARGUMENT',
      `port must be an integer from 1 to 65535, got ${String(port)}`,
    );
  }
  return port;
}

export function checkProtocol(protocol: unknown): Protocol {
  if (protocol !== 'TCP' && protocol !== 'UDP') {
    throw new ListenersError(
      'E_INVALID_ARGUMENT',
      `protocol must be 'TCP' or 'UDP', got ${String(protocol)}`,
    );
  }
  return protocol;
}

export function checkPid(pid: unknown): number {
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid < 0 || pid > 0x7fffffff) {
    throw new ListenersError('E_INVALID_ARGUMENT', `pid must be a non-negative integer, got ${String(pid)}`);
  }
  return pid;
}

export function checkOwners(owners: unknown): 'auto' | 'bpf' | 'procfs' {
  if (owners === undefined) return 'auto';
  if (owners !== 'auto' && owners !== 'bpf' && owners !== 'procfs') {
    throw new ListenersError(
      'E_INVALID_ARGUMENT',
      `owners must be 'auto', 'bpf' or 'procfs', got ${String(owners)}`,
    );
  }
  return owners;
}

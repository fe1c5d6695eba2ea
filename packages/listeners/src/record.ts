import type { Family, Listener, Protocol, UnownedReason } from './types';

/**
 * A listener as a flat, JSON-friendly record: every field present, `null` where a Listener leaves one
 * out. The shape `netwho ports --json` prints and the web dashboard serves; fields are only ever added.
 */
export interface SocketRecord {
  protocol: Protocol;
  family: Family;
  local: { address: string; port: number };
  remote: { address: string; port: number } | null;
  state: string;
  pid: number | null;
  program: string | null;
  path: string | null;
  /** Why the owner is unknown: permission, vanished, hidden, none (TIME_WAIT). */
  unowned: UnownedReason | null;
}

export function socketRecord(l: Listener): SocketRecord {
  return {
    protocol: l.protocol,
    family: l.family,
    local: l.socket,
    remote: l.remote ?? null,
    state: l.state,
    pid: l.process?.pid ?? null,
    program: l.process?.name ?? null,
    path: l.process?.path || null,
    unowned: l.unowned ?? null,
  };
}

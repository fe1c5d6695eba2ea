import type { Endpoint, Owner, OwnerAnswer, OwnerQuery, Protocol, UnknownReason } from '../types';
import { ownerServes } from '../util/endpoints';
import type { AttributionPolicy } from './policy';

/**
 * The states of one (local port, protocol):
 * - `looking-up`: a lookup is queued or running.
 * - `retrying`: the last lookup found no owner; the next one waits for its backoff delay.
 * - `known`: an owner was found; reused for new flows while it verifies and serves them.
 * - `unknown`: no owner after the retries (or no permission); held for a while, then looked up again.
 * - `stale`: a known owner that may no longer be right (TTL, failed verification, or a flow its
 *   socket cannot carry); the next flow looks it up again.
 */
export type PortState = 'looking-up' | 'retrying' | 'known' | 'unknown' | 'stale';

export interface PortEntry {
  protocol: Protocol;
  port: number;
  state: PortState;
  owner: Owner | undefined;
  reason: UnknownReason | undefined;
  /** Lookups made since the last answer with an owner. */
  attempts: number;
  /** Whether any of those lookups found a socket (decides `gave-up` against `not-found`). */
  sawSocket: boolean;
  /** known: TTL deadline; unknown: end of the hold; retrying: when to look up again. */
  until: number;
  /** The flow the next lookup asks about. */
  query: OwnerQuery | undefined;
}

export function newEntry(protocol: Protocol, port: number): PortEntry {
  return {
    protocol,
    port,
    state: 'stale',
    owner: undefined,
    reason: undefined,
    attempts: 0,
    sawSocket: false,
    until: 0,
    query: undefined,
  };
}

/** What to do with a flow that arrives on a port. */
export type Admission =
  | { action: 'label-known'; owner: Owner }
  | { action: 'label-unknown'; reason: UnknownReason }
  | { action: 'wait' }
  | { action: 'lookup' };

/**
 * A new flow on the port. `verify` is the cheap check that the cached owner still holds its socket;
 * it is called only when the owner would otherwise be reused. Moves `known` to `stale` and
 * `stale`/expired `unknown` to `looking-up`.
 */
export function admitFlow(
  entry: PortEntry,
  query: OwnerQuery,
  now: number,
  verify: (owner: Owner) => boolean,
): Admission {
  switch (entry.state) {
    case 'looking-up':
    case 'retrying':
      return { action: 'wait' };
    case 'known': {
      const owner = entry.owner!;
      if (now < entry.until && ownerServes(owner, query.local, query.remote) && verify(owner)) {
        return { action: 'label-known', owner };
      }
      entry.state = 'stale';
      return startLookup(entry, query);
    }
    case 'unknown':
      if (now < entry.until) return { action: 'label-unknown', reason: entry.reason! };
      return startLookup(entry, query);
    case 'stale':
      return startLookup(entry, query);
  }
}

function startLookup(entry: PortEntry, query: OwnerQuery): Admission {
  entry.state = 'looking-up';
  entry.query = query;
  entry.attempts = 0;
  entry.sawSocket = false;
  return { action: 'lookup' };
}

/** The TTL of a known owner ran out (called by the periodic sweep). */
export function expireKnown(entry: PortEntry, now: number): boolean {
  if (entry.state !== 'known' || now < entry.until) return false;
  entry.state = 'stale';
  return true;
}

/** The answer to this entry's lookup. Returns the entry's new state. */
export function applyAnswer(
  entry: PortEntry,
  answer: OwnerAnswer,
  now: number,
  policy: AttributionPolicy,
): PortState {
  if ('owner' in answer) {
    entry.state = 'known';
    entry.owner = answer.owner;
    entry.reason = undefined;
    entry.until = now + policy.knownTtl;
    entry.attempts = 0;
    return entry.state;
  }
  entry.owner = undefined;
  if (answer.missing === 'permission') return becomeUnknown(entry, 'permission', now, policy);
  if (answer.missing === 'unresolved') entry.sawSocket = true;
  entry.attempts++;
  if (entry.attempts <= policy.retryDelays.length) {
    entry.state = 'retrying';
    entry.until = now + policy.retryDelays[entry.attempts - 1]!;
    return entry.state;
  }
  return becomeUnknown(entry, entry.sawSocket ? 'gave-up' : 'not-found', now, policy);
}

function becomeUnknown(
  entry: PortEntry,
  reason: UnknownReason,
  now: number,
  policy: AttributionPolicy,
): PortState {
  entry.state = 'unknown';
  entry.reason = reason;
  entry.until = now + policy.unknownHold;
  return entry.state;
}

/** No lookup can be made (the queue is full): the port is unknown (`gave-up`) for the hold time. */
export function giveUp(entry: PortEntry, now: number, policy: AttributionPolicy): PortState {
  return becomeUnknown(entry, 'gave-up', now, policy);
}

/** A retrying entry whose delay is over goes back to `looking-up`. */
export function retryDue(entry: PortEntry, now: number): boolean {
  if (entry.state !== 'retrying' || now < entry.until) return false;
  entry.state = 'looking-up';
  return true;
}

/** Whether a known entry's owner carries a flow with these ends. */
export function serves(entry: PortEntry, local: Endpoint, remote: Endpoint): boolean {
  return entry.state === 'known' && ownerServes(entry.owner!, local, remote);
}

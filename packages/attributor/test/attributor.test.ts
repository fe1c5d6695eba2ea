import { afterEach, describe, expect, it } from 'vitest';
import { Attributor, type AttributorOptions, type Label } from '../src/index';
import { SLICE_BUDGET_MS } from '../src/util/slices';
import { CURL, FakeClock, FakeSource, FIREFOX, flow } from './fakes';

// Default policy: retries after 25, 100, 400, 1500 ms; known for 60 s; unknown held 3 s.
let attributor: Attributor | undefined;
afterEach(() => attributor?.close());

function setUp(options: AttributorOptions = {}, clock = new FakeClock()) {
  const source = new FakeSource(clock);
  const a = new Attributor(source, { clock, ...options });
  attributor = a;
  const events: { id: number; label: Label; previous: Label }[] = [];
  a.on('label', (id, label, previous) => events.push({ id, label, previous }));
  return { clock, source, a, events };
}

describe('Attributor state machine (fake clock, fake socket table)', () => {
  it('new -> looking-up -> known: the first flow is pending, then labelled by one lookup', async () => {
    const { clock, source, a, events } = setUp();
    source.own(5000, FIREFOX, 11);
    const f = flow(5000);
    expect(a.flowStarted(f)).toEqual({ status: 'pending' });
    expect(a.portState('TCP', 5000)).toBe('looking-up');
    await clock.advance(0);
    expect(source.calls).toHaveLength(1);
    expect(a.labelOf(f.id)).toEqual({ status: 'known', process: FIREFOX });
    expect(events).toEqual([
      { id: f.id, label: { status: 'known', process: FIREFOX }, previous: { status: 'pending' } },
    ]);
    expect(a.portState('TCP', 5000)).toBe('known');
  });

  it('batches: many new flows are served by one socket-table read', async () => {
    const { clock, source, a } = setUp();
    for (let port = 6000; port < 6100; port++) source.own(port, CURL, port);
    const flows = Array.from({ length: 100 }, (_, i) => flow(6000 + i));
    for (const f of flows) a.flowStarted(f);
    await clock.advance(0);
    expect(source.calls).toHaveLength(1);
    expect(source.calls[0]!.queries).toHaveLength(100);
    for (const f of flows) expect(a.labelOf(f.id)?.status).toBe('known');
    expect(a.stats()).toMatchObject({ flows: 100, attributed: 100, lookups: 1, queries: 100 });
  });

  it('flows arriving during a lookup wait for the next batch; flows on a port being looked up share its answer', async () => {
    const { clock, source, a } = setUp();
    source.own(7000, CURL, 70);
    source.own(7001, FIREFOX, 71);
    source.hold();
    const first = flow(7000);
    a.flowStarted(first);
    await clock.advance(0); // lookup running, held open
    const samePort = flow(7000, { remotePort: 444 });
    const other = flow(7001);
    a.flowStarted(samePort);
    a.flowStarted(other);
    expect(source.calls).toHaveLength(1);
    source.release();
    await clock.advance(0);
    expect(a.labelOf(first.id)).toEqual({ status: 'known', process: CURL });
    expect(a.labelOf(samePort.id)).toEqual({ status: 'known', process: CURL }); // listening owner serves any peer
    expect(a.labelOf(other.id)).toEqual({ status: 'known', process: FIREFOX });
    expect(source.calls).toHaveLength(2);
  });

  it('known: a new flow is labelled at once from the cache after one verification', async () => {
    const { clock, source, a } = setUp();
    source.own(5000, FIREFOX, 11);
    a.flowStarted(flow(5000));
    await clock.advance(0);
    const verifications = source.verifications;
    expect(a.flowStarted(flow(5000, { remotePort: 8443 }))).toEqual({ status: 'known', process: FIREFOX });
    expect(source.verifications).toBe(verifications + 1);
    expect(source.calls).toHaveLength(1);
    expect(a.stats().cacheHits).toBe(1);
  });

  it('known -> stale -> looking-up when the owner no longer holds the socket (port reuse by another program)', async () => {
    const { clock, source, a } = setUp();
    source.own(5000, FIREFOX, 11);
    a.flowStarted(flow(5000));
    await clock.advance(0);
    source.close(5000);
    source.own(5000, CURL, 12); // another program binds the port
    const next = flow(5000);
    expect(a.flowStarted(next)).toEqual({ status: 'pending' }); // never the old owner
    expect(a.stats().verifyFailures).toBe(1);
    await clock.advance(0);
    expect(a.labelOf(next.id)).toEqual({ status: 'known', process: CURL });
  });

  it('known -> stale when the TTL runs out, even if the owner still verifies', async () => {
    const { clock, source, a } = setUp();
    source.own(5000, FIREFOX, 11);
    a.flowStarted(flow(5000));
    await clock.advance(0);
    await clock.advance(59_999);
    expect(a.flowStarted(flow(5000))).toEqual({ status: 'known', process: FIREFOX });
    await clock.advance(1);
    expect(a.flowStarted(flow(5000))).toEqual({ status: 'pending' });
    await clock.advance(0);
    expect(source.calls).toHaveLength(2);
  });

  it('known -> stale for a flow its connected socket does not carry (a shared local port, another peer)', async () => {
    const { clock, source, a } = setUp();
    source.own(40000, CURL, 21, { remote: { address: '10.0.0.9', port: 443 }, localAddress: '127.0.0.1' });
    a.flowStarted(flow(40000, { remotePort: 443 }));
    await clock.advance(0);
    const otherPeer = flow(40000, { remotePort: 80 });
    expect(a.flowStarted(otherPeer)).toEqual({ status: 'pending' });
    await clock.advance(0);
    expect(source.calls).toHaveLength(2);
    // The fake table has no socket for that peer: it is not given the cached program.
    expect(a.labelOf(otherPeer.id)).toEqual({ status: 'pending' });
    expect(a.portState('TCP', 40000)).toBe('retrying');
  });

  it('looking-up -> retrying with backoff 25/100/400/1500 ms -> unknown(not-found)', async () => {
    const { clock, source, a, events } = setUp();
    const f = flow(5555);
    a.flowStarted(f);
    await clock.advance(0);
    expect(a.portState('TCP', 5555)).toBe('retrying');
    await clock.advance(3000);
    const start = source.calls[0]!.at;
    expect(source.calls.map((c) => c.at - start)).toEqual([0, 25, 125, 525, 2025]);
    expect(a.portState('TCP', 5555)).toBe('unknown');
    expect(a.labelOf(f.id)).toEqual({ status: 'unknown', reason: 'not-found' });
    expect(events).toHaveLength(1);
  });

  it('retry timers that run early (as Node’s can) wait out the rest: the flow never stays pending', async () => {
    const { clock, source, a } = setUp({}, new FakeClock(3));
    const f = flow(5560);
    a.flowStarted(f);
    await clock.advance(3000);
    const start = source.calls[0]!.at;
    expect(source.calls.map((c) => c.at - start)).toEqual([0, 25, 125, 525, 2025]);
    expect(a.labelOf(f.id)).toEqual({ status: 'unknown', reason: 'not-found' });
  });

  it('retrying -> known when the owner shows up on a retry', async () => {
    const { clock, source, a } = setUp();
    const f = flow(5556);
    a.flowStarted(f);
    await clock.advance(0);
    await clock.advance(25);
    source.own(5556, CURL, 31);
    await clock.advance(100);
    expect(a.labelOf(f.id)).toEqual({ status: 'known', process: CURL });
    expect(source.calls).toHaveLength(3);
    expect(a.stats().labelLatency).toMatchObject({ p50: 125, samples: 1 });
  });

  it('unknown(gave-up) when a socket was there but its owner never showed', async () => {
    const { clock, source, a } = setUp();
    source.answers.set(5557, { missing: 'unresolved' });
    const f = flow(5557);
    a.flowStarted(f);
    await clock.advance(3000);
    expect(a.labelOf(f.id)).toEqual({ status: 'unknown', reason: 'gave-up' });
  });

  it('looking-up -> unknown(permission) at once, without retries', async () => {
    const { clock, source, a } = setUp();
    source.answers.set(22, { missing: 'permission' });
    const f = flow(22);
    a.flowStarted(f);
    await clock.advance(0);
    expect(a.labelOf(f.id)).toEqual({ status: 'unknown', reason: 'permission' });
    expect(source.calls).toHaveLength(1);
  });

  it('unknown is held (new flows labelled unknown without a lookup), then looked up again; found flows move to their program', async () => {
    const { clock, source, a, events } = setUp();
    const early = flow(5558);
    a.flowStarted(early);
    await clock.advance(2100); // not-found after 5 lookups
    const calls = source.calls.length;
    expect(a.flowStarted(flow(5558))).toEqual({ status: 'unknown', reason: 'not-found' });
    expect(source.calls).toHaveLength(calls);
    await clock.advance(3000); // hold over
    source.own(5558, FIREFOX, 41);
    const late = flow(5558);
    expect(a.flowStarted(late)).toEqual({ status: 'pending' });
    await clock.advance(0);
    expect(a.labelOf(late.id)).toEqual({ status: 'known', process: FIREFOX });
    // The early flow, counted unknown so far, moves to the program: a UI moves its traffic.
    expect(a.labelOf(early.id)).toEqual({ status: 'known', process: FIREFOX });
    expect(events.some((e) => e.id === early.id && e.previous.status === 'unknown')).toBe(true);
    expect(a.stats().recovered).toBe(2);
  });

  it('revalidation: a port closed and bound again by another program moves its live flows to it', async () => {
    const { clock, source, a, events } = setUp();
    source.own(5353, FIREFOX, 61);
    const f = flow(5353, { protocol: 17 });
    a.flowStarted(f);
    await clock.advance(0);
    source.close(5353);
    source.own(5353, CURL, 62); // UDP: same 5-tuple, so still the same flow
    await clock.advance(1000);
    expect(a.labelOf(f.id)).toEqual({ status: 'known', process: CURL });
    expect(events.at(-1)).toMatchObject({ previous: { status: 'known', process: FIREFOX } });
    expect(a.stats()).toMatchObject({ moved: 1, attributed: 1 });
  });

  it('revalidation leaves flows whose own socket still lives with their program', async () => {
    const { clock, source, a } = setUp();
    source.own(8080, FIREFOX, 71, { remote: { address: '10.0.0.9', port: 443 } });
    const old = flow(8080, { remotePort: 443 });
    a.flowStarted(old);
    await clock.advance(0);
    source.own(8080, CURL, 72); // a listener on the port now answers for other peers
    const other = flow(8080, { remotePort: 80 });
    a.flowStarted(other);
    await clock.advance(0);
    expect(a.labelOf(other.id)).toEqual({ status: 'known', process: CURL });
    expect(a.labelOf(old.id)).toEqual({ status: 'known', process: FIREFOX });
    source.close(8080); // the listener goes; another program listens
    const BASH = { pid: 300, name: 'bash', path: '/usr/bin/bash' };
    source.own(8080, BASH, 73);
    await clock.advance(1000);
    expect(a.labelOf(other.id)).toEqual({ status: 'known', process: BASH });
    expect(a.labelOf(old.id)).toEqual({ status: 'known', process: FIREFOX }); // its socket (71) still held
  });

  it('a flow that ends while pending still gets its label event, then is forgotten', async () => {
    const { clock, source, a, events } = setUp();
    source.own(5000, FIREFOX, 11);
    const f = flow(5000);
    a.flowStarted(f);
    a.flowEnded(f.id);
    await clock.advance(0);
    expect(events.map((e) => e.id)).toEqual([f.id]);
    expect(a.labelOf(f.id)).toBeUndefined();
    expect(a.stats().tracked).toBe(0);
  });

  it('a failed table read is retried like a miss and counted', async () => {
    const { clock, source, a } = setUp();
    source.own(5000, FIREFOX, 11);
    source.failNext = true;
    const f = flow(5000);
    a.flowStarted(f);
    await clock.advance(25);
    expect(a.labelOf(f.id)).toEqual({ status: 'known', process: FIREFOX });
    expect(a.stats().lookupErrors).toBe(1);
    expect((a.lastError as Error).message).toBe('table read failed');
  });

  it('flows without ports (ICMP) are unknown and not tracked', () => {
    const { a } = setUp();
    expect(a.flowStarted(flow(0, { protocol: 1 }))).toEqual({ status: 'unknown', reason: 'not-found' });
    expect(a.stats().tracked).toBe(0);
  });

  it('UDP and TCP on the same port are separate entries', async () => {
    const { clock, source, a } = setUp();
    source.own(53, CURL, 51);
    a.flowStarted(flow(53, { protocol: 17 }));
    await clock.advance(0);
    expect(a.portState('UDP', 53)).toBe('known');
    expect(a.portState('TCP', 53)).toBeUndefined();
  });
});

describe('Attributor bounds', () => {
  it('maxPorts: the least recently used port is forgotten; flows waiting on it become unknown(gave-up)', async () => {
    const { clock, a } = setUp({ maxPorts: 4 });
    const flows = [1, 2, 3, 4, 5].map((p) => flow(9000 + p));
    for (const f of flows) a.flowStarted(f);
    expect(a.stats()).toMatchObject({ ports: 4, evictedPorts: 1 });
    expect(a.labelOf(flows[0]!.id)).toEqual({ status: 'unknown', reason: 'gave-up' });
    await clock.advance(0);
  });

  it('maxFlows: the oldest flow is forgotten', () => {
    const { a } = setUp({ maxFlows: 3 });
    const flows = [1, 2, 3, 4].map((p) => flow(9100 + p));
    for (const f of flows) a.flowStarted(f);
    expect(a.labelOf(flows[0]!.id)).toBeUndefined();
    expect(a.stats()).toMatchObject({ tracked: 3, forgottenFlows: 1 });
  });

  it('maxPending: past it new ports are labelled unknown(gave-up) at once', async () => {
    const { clock, source, a } = setUp({ maxPending: 2 });
    const flows = [1, 2, 3].map((p) => flow(9200 + p));
    for (const f of flows) a.flowStarted(f);
    expect(a.labelOf(flows[2]!.id)).toEqual({ status: 'unknown', reason: 'gave-up' });
    expect(a.stats().dropped).toBe(1);
    await clock.advance(0);
    expect(source.calls[0]!.queries).toHaveLength(2);
  });

  it('maxBatch splits a burst into several reads', async () => {
    const { clock, source, a } = setUp({ maxBatch: 10 });
    for (let i = 0; i < 25; i++) a.flowStarted(flow(9300 + i));
    await clock.advance(0);
    expect(source.calls.map((c) => c.queries.length)).toEqual([10, 10, 5]);
  });

  it('idle entries are swept: memory stays flat over a million distinct flows', async () => {
    const { clock, source, a } = setUp({ maxPorts: 1000, maxFlows: 2000 });
    for (let port = 1; port <= 1000; port++) source.own(port, CURL, port);
    const live: number[] = [];
    for (let i = 0; i < 1_000_000; i++) {
      const f = flow(1 + (i % 1000), { remotePort: 1 + (i % 60000) });
      a.flowStarted(f);
      if (i % 3 === 0) a.flowEnded(f.id);
      else live.push(f.id);
      if (live.length > 2000) live.shift();
      if (i % 1000 === 999) await clock.advance(1);
    }
    const stats = a.stats();
    expect(stats.tracked).toBeLessThanOrEqual(2000);
    expect(stats.ports).toBeLessThanOrEqual(1000);
    expect(stats.flows).toBe(1_000_000);
    expect(stats.attributed).toBe(1_000_000);
    expect(stats.lookups).toBe(2); // 1000 ports in batches of at most 512
    // Flows end; after the TTL their ports go stale and are swept.
    for (const id of live) a.flowEnded(id);
    expect(a.stats().tracked).toBe(0);
    await clock.advance(70_000);
    expect(a.stats().ports).toBe(0);
  });

  it('rejects nonsense bounds', () => {
    const clock = new FakeClock();
    expect(() => new Attributor(new FakeSource(clock), { clock, maxPorts: 0 })).toThrow(RangeError);
  });
});

/** A kernel source with no record of anything, which counts the questions it is asked. */
function noRecords() {
  const counted = { asked: 0 };
  const connections = {
    ownerOf: () => {
      counted.asked++;
      return undefined;
    },
  };
  return { counted, connections };
}

/** A UDP flow whose first datagram left a socket of this machine, as a capture Flow says it. */
const SENT_HERE = { packetsIn: 0, localKnown: true } as const;

describe('connect-time owners from the kernel (eBPF), asked first', () => {
  const record = (at: number, exited = false) => ({ process: CURL, exited, at });

  it('labels a new flow at once, without a socket-table read, and says where the answer came from', async () => {
    const clock = new FakeClock();
    const { source, a } = setUp({ connections: { ownerOf: () => record(clock.now() - 5) } }, clock);
    const f = flow(5000, { firstSeen: clock.now() });
    expect(a.flowStarted(f)).toEqual({ status: 'known', process: CURL, source: 'ebpf' });
    await clock.advance(0);
    expect(source.calls).toHaveLength(0);
    expect(a.stats()).toMatchObject({ fromKernel: 1, attributed: 1 });
  });

  it('flows of one process share one described label; it leaves no port entry behind', () => {
    const clock = new FakeClock();
    const described: unknown[] = [];
    const { a } = setUp(
      {
        connections: { ownerOf: () => record(clock.now()) },
        describe: (p) => {
          described.push(p);
          return { ...p, user: { uid: 1000, name: 'me' } };
        },
      },
      clock,
    );
    const labels = [6000, 6001, 6002].map((port) => a.flowStarted(flow(port, { firstSeen: clock.now() })));
    expect(labels[0]).toEqual({
      status: 'known',
      process: { ...CURL, user: { uid: 1000, name: 'me' } },
      source: 'ebpf',
    });
    expect(labels[1]).toBe(labels[0]);
    expect(labels[2]).toBe(labels[0]);
    expect(described).toHaveLength(1);
    expect(a.portState('TCP', 6000)).toBeUndefined(); // the socket table was never needed
    expect(a.stats().ports).toBe(0);
  });

  it('an owner that exited is still named, and flagged', () => {
    const clock = new FakeClock();
    const { a } = setUp({ connections: { ownerOf: () => record(clock.now(), true) } }, clock);
    expect(a.flowStarted(flow(5001, { firstSeen: clock.now() }))).toMatchObject({
      exited: true,
      source: 'ebpf',
    });
    expect(a.stats().fromKernelExited).toBe(1);
  });

  it('a record newer than the flow is another connection: the socket table answers instead', async () => {
    const clock = new FakeClock();
    const { source, a } = setUp({ connections: { ownerOf: () => record(clock.now() + 1000) } }, clock);
    source.own(5002, FIREFOX, 12);
    const f = flow(5002, { firstSeen: clock.now() });
    expect(a.flowStarted(f)).toEqual({ status: 'pending' });
    await clock.advance(0);
    expect(a.labelOf(f.id)).toEqual({ status: 'known', process: FIREFOX });
  });

  it('a socket-table answer for the port later leaves the eBPF-labelled flows as they are', async () => {
    const clock = new FakeClock();
    let hit: ReturnType<typeof record> | undefined = record(clock.now());
    const { source, a } = setUp({ connections: { ownerOf: () => hit } }, clock);
    source.own(5004, FIREFOX, 14);
    const first = flow(5004, { firstSeen: clock.now() });
    expect(a.flowStarted(first)).toMatchObject({ source: 'ebpf' });
    hit = undefined; // the next flow on the port is not in the kernel's records: the table answers
    const second = flow(5004, { firstSeen: clock.now(), remotePort: 444 });
    a.flowStarted(second);
    await clock.advance(0);
    expect(a.labelOf(second.id)).toEqual({ status: 'known', process: FIREFOX });
    expect(a.labelOf(first.id)).toMatchObject({ process: CURL, source: 'ebpf' });
  });

  it('UDP: a bind is true as long as its socket, however old (the kernel removes it on close)', () => {
    const clock = new FakeClock();
    const bind = { ...record(clock.now() - 3_600_000), hook: 'bind' };
    const { a } = setUp({ connections: { ownerOf: () => bind } }, clock);
    expect(a.flowStarted(flow(5353, { firstSeen: clock.now(), protocol: 17 }))).toMatchObject({
      process: CURL,
      source: 'ebpf',
    });
  });

  it('revalidation reads the map in slices between which packets are handled, and every flow takes its turn', async () => {
    const clock = new FakeClock();
    const later: (() => void)[] = []; // Clock.soon, run by hand: each call is one slice
    const manual = Object.assign(clock, {
      soon: (fn: () => void) => {
        later.push(fn);
        return () => {};
      },
    });
    const asked = new Map<number, number>(); // local port -> map reads
    const connections = {
      ownerOf: (q: { local: { port: number } }) => {
        asked.set(q.local.port, (asked.get(q.local.port) ?? 0) + 1);
        return record(clock.now());
      },
    };
    const { a } = setUp({ connections }, manual);
    const flows = 5000; // more than a round's 4096 checks
    for (let port = 10_000; port < 10_000 + flows; port++) {
      a.flowStarted(flow(port, { firstSeen: clock.now(), protocol: 17 }));
    }
    asked.clear();
    const reads = () => [...asked.values()].reduce((sum, n) => sum + n, 0);
    await clock.advance(1000); // the revalidation timer: its first slice only
    expect(reads()).toBe(64);
    let most = 64;
    while (later.length > 0) {
      const before = reads();
      later.shift()!();
      most = Math.max(most, reads() - before);
    }
    expect(reads()).toBe(4096);
    expect(most).toBe(64);
    await clock.advance(1000);
    while (later.length > 0) later.shift()!();
    expect(asked.size).toBe(flows); // the 904 left out of the first round went first in the second
    expect(Math.max(...asked.values())).toBe(2);
  });

  it('a slice of revalidation hands the event loop back after its time budget, short of its size', async () => {
    const clock = new FakeClock();
    let spent = 0; // ms the map reads took, on top of the clock's own time
    const now = clock.now.bind(clock);
    const later: (() => void)[] = [];
    const slow = Object.assign(clock, {
      now: () => now() + spent,
      soon: (fn: () => void) => {
        later.push(fn);
        return () => {};
      },
    });
    let reads = 0;
    const connections = {
      ownerOf: () => {
        reads++;
        spent += 0.1; // a read of the map that takes 100 µs (a UDP lookup is up to seven)
        return record(slow.now());
      },
    };
    const { a } = setUp({ connections }, slow);
    for (let port = 10_000; port < 10_100; port++) {
      a.flowStarted(flow(port, { firstSeen: slow.now(), protocol: 17 }));
    }
    reads = 0;
    await clock.advance(1000);
    expect(reads).toBe(Math.ceil(SLICE_BUDGET_MS / 0.1)); // 3 reads of 0.1 ms pass 0.25 ms
    while (later.length > 0) later.shift()!();
    expect(reads).toBe(100); // and every flow is still checked, slice after slice
  });

  it('UDP: when the host reports packets, only flows with packets since their last check are read again', async () => {
    const clock = new FakeClock();
    const asked = new Map<number, number>();
    const connections = {
      ownerOf: (q: { local: { port: number } }) => {
        asked.set(q.local.port, (asked.get(q.local.port) ?? 0) + 1);
        return record(clock.now());
      },
    };
    const { a } = setUp({ connections }, clock);
    const flows = [0, 1, 2].map((i) => flow(5300 + i, { firstSeen: clock.now(), protocol: 17 }));
    for (const f of flows) {
      a.flowStarted(f);
      a.flowActivity(f.id); // its first packet
    }
    asked.clear();
    await clock.advance(1000);
    expect([...asked.keys()].sort()).toEqual([5300, 5301, 5302]); // each once after its packets
    asked.clear();
    a.flowActivity(flows[1]!.id);
    await clock.advance(1000);
    expect([...asked.keys()]).toEqual([5301]); // the others had no packets since
    asked.clear();
    await clock.advance(1000);
    expect(asked.size).toBe(0);
  });

  it('UDP: a send recorded long before the flow is not this flow’s', async () => {
    const clock = new FakeClock();
    const { source, a } = setUp({ connections: { ownerOf: () => record(clock.now() - 60_000) } }, clock);
    source.own(5003, FIREFOX, 13);
    const f = flow(5003, { firstSeen: clock.now(), protocol: 17, ...SENT_HERE });
    expect(a.flowStarted(f)).toEqual({ status: 'pending' });
    await clock.advance(3.5); // asked again 1 ms apart: still the old send
    expect(source.calls).toHaveLength(0);
    await clock.advance(0.5);
    expect(a.labelOf(f.id)).toEqual({ status: 'known', process: FIREFOX });
  });

  it('UDP: a record written just after the datagram the capture saw (the send returned later) is found by asking again', async () => {
    const clock = new FakeClock();
    let hit: ReturnType<NonNullable<AttributorOptions['connections']>['ownerOf']>;
    const { source, a } = setUp({ connections: { ownerOf: () => hit } }, clock);
    const f = flow(5005, { firstSeen: clock.now(), protocol: 17, ...SENT_HERE });
    expect(a.flowStarted(f)).toEqual({ status: 'pending' });
    hit = { ...record(clock.now() + 0.05), hook: 'udp-send' }; // 50 µs after its datagram
    await clock.advance(1);
    expect(a.labelOf(f.id)).toEqual({ status: 'known', process: CURL, source: 'ebpf' });
    expect(source.calls).toHaveLength(0);
    expect(a.stats()).toMatchObject({ fromKernel: 1, fromKernelLater: 1, kernelWaiting: 0 });
  });

  it('UDP: a datagram nothing recorded costs five questions in 4 ms, then the socket table alone answers', async () => {
    const clock = new FakeClock();
    const { counted, connections } = noRecords();
    const { source, a } = setUp({ connections }, clock);
    const f = flow(5006, { firstSeen: clock.now(), protocol: 17, ...SENT_HERE });
    a.flowStarted(f);
    await clock.advance(3.5);
    expect(counted.asked).toBe(4);
    expect(source.calls).toHaveLength(0);
    await clock.advance(0.5);
    expect(counted.asked).toBe(5);
    expect(source.calls).toHaveLength(1);
    a.flowActivity(f.id); // not waiting any more: its packets ask nothing
    await clock.advance(10_000); // the table's own retries
    expect(counted.asked).toBe(5);
    expect(a.stats()).toMatchObject({ kernelWaiting: 0, fromKernel: 0 });
    expect(a.labelOf(f.id)).toEqual({ status: 'unknown', reason: 'not-found' });
  });

  it('UDP: a datagram that came in, or passes through, is asked once, then the socket table answers', async () => {
    const clock = new FakeClock();
    const { counted, connections } = noRecords();
    const { source, a } = setUp({ connections }, clock);
    const cases = [
      { packetsIn: 1, localKnown: true }, // from a remote host to this machine
      { packetsIn: 0, localKnown: false, bothLocal: false }, // neither end here: forwarded
      {}, // a flow source that does not say
    ];
    for (const [i, how] of cases.entries()) a.flowStarted(flow(5100 + i, { protocol: 17, ...how }));
    expect(counted.asked).toBe(3);
    await clock.advance(0);
    expect(source.calls.flatMap((c) => c.queries)).toHaveLength(3);
    await clock.advance(10);
    expect(counted.asked).toBe(3);
    expect(a.stats().kernelWaiting).toBe(0);
  });
});

describe('accepted connections: the kernel records them after their SYN, at the first send or receive', () => {
  const SYN = 0x1234_5678;
  const accepted = (port: number, syn = SYN) =>
    flow(port, { firstSeen: 0, syn: { seq: syn, fromLocal: false } });

  it('a record that comes later is found by asking again, 1 ms apart, and the socket table is not read', async () => {
    const clock = new FakeClock();
    let hit: ReturnType<NonNullable<AttributorOptions['connections']>['ownerOf']>;
    const { source, a, events } = setUp({ connections: { ownerOf: () => hit } }, clock);
    source.own(8080, FIREFOX, 80);
    const f = accepted(8080);
    expect(a.flowStarted(f)).toEqual({ status: 'pending' });
    await clock.advance(3);
    expect(a.stats().kernelWaiting).toBe(1);
    hit = { process: CURL, exited: false, at: clock.now(), hook: 'accept', syn: SYN }; // the server read
    await clock.advance(1);
    expect(a.labelOf(f.id)).toEqual({ status: 'known', process: CURL, source: 'ebpf' });
    expect(events.at(-1)?.previous).toEqual({ status: 'pending' });
    await clock.advance(100);
    expect(source.calls).toHaveLength(0);
    expect(a.stats()).toMatchObject({ fromKernel: 1, fromKernelLater: 1, kernelWaiting: 0 });
  });

  it('a packet of a waiting flow asks again at once, at most every 50 µs, and never for a flow not waiting', async () => {
    const clock = new FakeClock();
    let asked = 0;
    let hit: ReturnType<NonNullable<AttributorOptions['connections']>['ownerOf']>;
    const connections = {
      ownerOf: () => {
        asked++;
        return hit;
      },
    };
    const { a } = setUp({ connections }, clock);
    const f = accepted(8090);
    a.flowStarted(f);
    expect(asked).toBe(1);
    a.flowActivity(f.id);
    a.flowActivity(f.id); // the same instant: not asked again now...
    a.flowActivity(f.id);
    expect(asked).toBe(2);
    await clock.advance(0); // ...but once when the packets at hand are handled
    expect(asked).toBe(3);
    await clock.advance(0.06);
    hit = { process: CURL, exited: false, at: clock.now(), hook: 'accept', syn: SYN }; // the server read
    a.flowActivity(f.id);
    expect(a.labelOf(f.id)).toEqual({ status: 'known', process: CURL, source: 'ebpf' });
    expect(a.stats()).toMatchObject({ fromKernelLater: 1, fromKernelOnActivity: 1 });
    a.flowActivity(f.id); // labelled: nothing more to ask
    const outgoing = flow(8091, { firstSeen: 0 }); // not accepted here: never waits
    a.flowStarted(outgoing);
    const before = asked;
    a.flowActivity(outgoing.id);
    a.flowActivity(12345); // unknown flow
    expect(asked).toBe(before);
    await clock.advance(1000);
    expect(a.stats()).toMatchObject({ kernelWaiting: 0, fromKernel: 1 });
  });

  it('a packet right after a question is not lost: the record it follows is found in the same turn, not 1 ms later', async () => {
    const clock = new FakeClock();
    let hit: ReturnType<NonNullable<AttributorOptions['connections']>['ownerOf']>;
    const { a } = setUp({ connections: { ownerOf: () => hit } }, clock);
    const f = accepted(8092);
    a.flowStarted(f);
    a.flowActivity(f.id); // the handshake's last packet: no record yet
    await clock.advance(0.02);
    hit = { process: CURL, exited: false, at: clock.now(), hook: 'accept', syn: SYN }; // the server read
    a.flowActivity(f.id); // its answer, 20 µs after the last question
    expect(a.labelOf(f.id)).toEqual({ status: 'pending' });
    await clock.advance(0);
    expect(a.labelOf(f.id)).toEqual({ status: 'known', process: CURL, source: 'ebpf' });
    expect(a.stats()).toMatchObject({ fromKernelOnActivity: 1 });
  });

  it('a record under another SYN number is an earlier connection of the 4-tuple: after 14 ms the table answers', async () => {
    const clock = new FakeClock();
    const older = { process: CURL, exited: true, at: -5, hook: 'accept', syn: SYN + 1 };
    const { source, a } = setUp({ connections: { ownerOf: () => older } }, clock);
    source.own(8081, FIREFOX, 81);
    const f = accepted(8081);
    expect(a.flowStarted(f)).toEqual({ status: 'pending' });
    await clock.advance(10);
    expect(source.calls).toHaveLength(0);
    await clock.advance(5);
    expect(source.calls).toHaveLength(1);
    await clock.advance(0);
    expect(a.labelOf(f.id)).toEqual({ status: 'known', process: FIREFOX });
    await clock.advance(1000); // the questions stop
    expect(a.stats()).toMatchObject({ fromKernel: 0, kernelWaiting: 0 });
  });

  it('a flow seen from its middle (no SYN) takes an accept record only if it is not newer than the flow', () => {
    const clock = new FakeClock();
    const hit = { process: CURL, exited: false, at: 1000, hook: 'accept', syn: SYN };
    const { a } = setUp({ connections: { ownerOf: () => hit } }, clock);
    expect(a.flowStarted(flow(8082, { firstSeen: 0 })).status).toBe('pending');
    expect(a.flowStarted(flow(8083, { firstSeen: 2000 }))).toMatchObject({ process: CURL });
  });

  it('the flows waited for are bounded: past 4,096 the socket table alone answers, and it is counted', async () => {
    const clock = new FakeClock();
    const { source, a } = setUp({ connections: { ownerOf: () => undefined } }, clock);
    for (let i = 0; i < 4100; i++) {
      source.own(10_000 + i, FIREFOX, i);
      a.flowStarted(accepted(10_000 + i));
    }
    expect(a.stats()).toMatchObject({ kernelWaiting: 4096, kernelWaitsDropped: 4 });
    await clock.advance(0);
    expect(source.calls.flatMap((c) => c.queries)).toHaveLength(4);
    await clock.advance(1000);
    expect(a.stats()).toMatchObject({ kernelWaiting: 0, attributed: 4100 });
  });
});

describe('accepted connections labelled from their listener, then checked against their own record', () => {
  const SYN = 0x0bad_cafe;
  const accepted = (port: number, firstSeen = 100) =>
    flow(port, { firstSeen, syn: { seq: SYN, fromLocal: false } });
  type Hit = ReturnType<NonNullable<AttributorOptions['connections']>['ownerOf']>;

  function withListener(listener: Hit) {
    const clock = new FakeClock();
    const state: { own: Hit; listener: Hit; listenerAsked: number } = {
      own: undefined,
      listener,
      listenerAsked: 0,
    };
    const connections = {
      ownerOf: () => state.own,
      listenerOf: () => {
        state.listenerAsked++;
        return state.listener;
      },
    };
    return { state, ...setUp({ connections }, clock) };
  }

  it('is labelled at its SYN from the listener, and confirmed (no new label) when its own record names the same process', async () => {
    const { state, clock, source, a, events } = withListener({
      process: CURL,
      exited: false,
      at: 50,
      hook: 'listen',
    });
    const f = accepted(8443);
    expect(a.flowStarted(f)).toEqual({ status: 'known', process: CURL, source: 'ebpf' });
    expect(a.stats()).toMatchObject({ fromListener: 1, kernelWaiting: 1, fromKernel: 0 });
    await clock.advance(2);
    state.own = { process: CURL, exited: false, at: clock.now(), hook: 'accept', syn: SYN };
    a.flowActivity(f.id);
    expect(events).toHaveLength(1);
    expect(a.stats()).toMatchObject({ listenerConfirmed: 1, listenerCorrected: 0, fromKernelLater: 0 });
    await clock.advance(1000);
    expect(a.stats().kernelWaiting).toBe(0);
    expect(source.calls).toHaveLength(0);
  });

  it('is corrected when its own record names another process, and that listener record is not used again', async () => {
    const { state, clock, a, events } = withListener({
      process: CURL,
      exited: false,
      at: 50,
      hook: 'listen',
    });
    const f = accepted(8444);
    a.flowStarted(f);
    await clock.advance(1);
    state.own = { process: FIREFOX, exited: false, at: clock.now(), hook: 'accept', syn: SYN }; // it was handed over
    await clock.advance(1);
    expect(a.labelOf(f.id)).toEqual({ status: 'known', process: FIREFOX, source: 'ebpf' });
    expect(events.map((e) => e.label)).toEqual([
      { status: 'known', process: CURL, source: 'ebpf' },
      { status: 'known', process: FIREFOX, source: 'ebpf' },
    ]);
    expect(a.stats()).toMatchObject({ listenerCorrected: 1, moved: 1 });
    state.own = undefined;
    const next = accepted(8444);
    expect(a.flowStarted(next)).toEqual({ status: 'pending' }); // the same listener record: waits for its own
    expect(a.stats().fromListener).toBe(1);
    // A newer listener record on that port (listen() again) is taken.
    state.listener = { process: CURL, exited: false, at: 60, hook: 'listen' };
    expect(a.flowStarted(accepted(8444))).toMatchObject({ status: 'known', process: CURL });
  });

  it('is not labelled so when the listener was made after the SYN, its holder exited, or the flow was opened from here', () => {
    const { state, a } = withListener({ process: CURL, exited: false, at: 5000, hook: 'listen' });
    expect(a.flowStarted(accepted(8445, 100))).toEqual({ status: 'pending' }); // listened 4.9 s after the SYN
    state.listener = { process: CURL, exited: true, at: 50, hook: 'listen' };
    expect(a.flowStarted(accepted(8446))).toEqual({ status: 'pending' });
    state.listener = { process: CURL, exited: false, at: 50, hook: 'listen' };
    const asked = state.listenerAsked;
    a.flowStarted(flow(8447, { firstSeen: 100, syn: { seq: SYN, fromLocal: true } })); // connected from here
    a.flowStarted(flow(8448, { firstSeen: 100 })); // seen from its middle: no SYN
    a.flowStarted(flow(8449, { protocol: 17, firstSeen: 100 }));
    expect(state.listenerAsked).toBe(asked);
    expect(a.stats().fromListener).toBe(0);
  });

  it('keeps the label when its server never reads or writes it, and stops asking after the last question', async () => {
    let asked = 0;
    const clock = new FakeClock();
    const connections = {
      ownerOf: () => {
        asked++;
        return undefined;
      },
      listenerOf: () => ({ process: CURL, exited: false, at: 50, hook: 'listen' }),
    };
    const { source, a } = setUp({ connections }, clock);
    const f = accepted(8450);
    a.flowStarted(f);
    await clock.advance(2000);
    expect(a.labelOf(f.id)).toMatchObject({ status: 'known', process: CURL });
    expect(a.stats()).toMatchObject({ kernelWaiting: 0, listenerConfirmed: 0, listenerCorrected: 0 });
    expect(source.calls).toHaveLength(0); // the socket table is not asked for a labelled flow
    const before = asked;
    a.flowActivity(f.id);
    expect(asked).toBe(before);
  });

  it('a listenerOf that throws is no answer: the flow waits for its own record', () => {
    const clock = new FakeClock();
    const connections = {
      ownerOf: () => undefined,
      listenerOf: () => {
        throw new Error('map gone');
      },
    };
    const { a } = setUp({ connections }, clock);
    expect(a.flowStarted(accepted(8451))).toEqual({ status: 'pending' });
  });
});

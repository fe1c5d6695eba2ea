import type { Listener } from '@netwho/listeners';
import { describe, expect, it } from 'vitest';
import { answerFor, type OwnerQuery } from '../src/index';
import { CURL, FIREFOX } from './fakes';

const socket = (over: Partial<Listener>): Listener => ({
  socket: { address: '0.0.0.0', port: 8080 },
  protocol: 'TCP',
  state: 'Listen',
  family: 4,
  inode: 1,
  uid: 0,
  ...over,
});

const query = (over: Partial<OwnerQuery> = {}): OwnerQuery => ({
  protocol: 'TCP',
  local: { address: '127.0.0.1', port: 8080 },
  remote: { address: '127.0.0.1', port: 50000 },
  ...over,
});

describe('answerFor: which socket of a port carries a flow', () => {
  it('the connected socket with the flow peer wins over the listener', () => {
    const sockets = [
      socket({ process: FIREFOX, inode: 1, fd: 5 }),
      socket({
        process: CURL,
        inode: 2,
        fd: 7,
        state: 'Established',
        socket: { address: '127.0.0.1', port: 8080 },
        remote: { address: '127.0.0.1', port: 50000 },
      }),
    ];
    expect(answerFor(query(), sockets)).toEqual({
      owner: {
        process: CURL,
        inode: 2,
        fd: 7,
        remote: { address: '127.0.0.1', port: 50000 },
        localAddress: '127.0.0.1',
      },
    });
  });

  it('the listener serves a peer whose accepted socket is gone, on the addresses it is bound to', () => {
    const listener = socket({
      process: FIREFOX,
      inode: 1,
      fd: 5,
      socket: { address: '::', port: 8080 },
      family: 6,
    });
    expect(answerFor(query(), [listener])).toMatchObject({ owner: { process: FIREFOX } });
    const bound = socket({ process: FIREFOX, socket: { address: '10.0.0.1', port: 8080 } });
    expect(answerFor(query(), [bound])).toEqual({ missing: 'not-found' });
  });

  it('IPv4-mapped addresses of a dual-stack socket match plain IPv4', () => {
    const accepted = socket({
      process: CURL,
      state: 'Established',
      family: 6,
      socket: { address: '::ffff:127.0.0.1', port: 8080 },
      remote: { address: '::ffff:127.0.0.1', port: 50000 },
    });
    expect(answerFor(query(), [accepted])).toMatchObject({ owner: { process: CURL } });
  });

  it('a connected socket to another peer does not serve the flow', () => {
    const other = socket({ process: CURL, state: 'Established', remote: { address: '127.0.0.1', port: 1 } });
    expect(answerFor(query(), [other])).toEqual({ missing: 'unresolved' });
  });

  it('TIME_WAIT without an owner is unresolved; unreadable owners are permission', () => {
    const timeWait = socket({
      state: 'TimeWait',
      inode: 0,
      unowned: 'none',
      remote: { address: '127.0.0.1', port: 50000 },
    });
    expect(answerFor(query(), [timeWait])).toEqual({ missing: 'unresolved' });
    expect(answerFor(query(), [socket({ unowned: 'permission' })])).toEqual({ missing: 'permission' });
  });

  it('different programs sharing the port (SO_REUSEPORT) are unresolved, never a guess; one program in several processes is that program', () => {
    const udp = (process: typeof CURL, inode: number): Listener =>
      socket({ protocol: 'UDP', state: 'Unknown', process, inode });
    const q = query({ protocol: 'UDP' });
    expect(answerFor(q, [udp(CURL, 1), udp(FIREFOX, 2)])).toEqual({ missing: 'unresolved' });
    expect(answerFor(q, [udp(CURL, 1), udp({ ...CURL, pid: 201 }, 2)])).toMatchObject({
      owner: { process: CURL },
    });
  });

  it('protocol and port must match', () => {
    expect(answerFor(query({ protocol: 'UDP' }), [socket({ process: CURL })])).toEqual({
      missing: 'not-found',
    });
    expect(answerFor(query(), [])).toEqual({ missing: 'not-found' });
  });
});

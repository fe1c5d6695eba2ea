import { expect, it } from 'vitest';
import type * as Api from '../src/index';

type PublicApi = Pick<typeof Api, 'getProcessByPort' | 'getByPid' | 'getAll' | 'isSupported'>;

/**
 * The public behaviour every backend shares: argument checks, not-found answers and typed errors.
 * Each backend's test file runs it with that backend's API, then adds its own checks.
 */
export const invalidPorts: unknown[] = [0, -1, 1.5, 65536, Number.NaN, '80', null];
export const invalidPids: unknown[] = [-1, 1.5, Number.NaN, '1', 2 ** 31];

export function testPublicBehaviour(api: PublicApi, options: { unusedPort: () => Promise<number> }): void {
  it('isSupported is true', () => {
    expect(api.isSupported).toBe(true);
  });

  it.each(invalidPorts)('getProcessByPort(%s) rejects with E_INVALID_ARGUMENT', async (port) => {
    await expect(api.getProcessByPort(port as number, 'TCP')).rejects.toMatchObject({
      name: 'ListenersError',
      code: 'E_INVALID_ARGUMENT',
    });
  });

  it.each(['SCTP', 'tcp', undefined])(
    'getProcessByPort(80, %s) rejects with E_INVALID_ARGUMENT',
    async (protocol) => {
      await expect(api.getProcessByPort(80, protocol as 'TCP')).rejects.toMatchObject({
        code: 'E_INVALID_ARGUMENT',
      });
    },
  );

  it.each(invalidPids)('getByPid(%s) rejects with E_INVALID_ARGUMENT', async (pid) => {
    await expect(api.getByPid(pid as number)).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
  });

  it.each(['TCP', 'UDP'] as const)(
    'getProcessByPort on an unused %s port rejects with E_NOT_FOUND',
    async (protocol) => {
      const port = await options.unusedPort();
      const error = await api.getProcessByPort(port, protocol).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'ListenersError', code: 'E_NOT_FOUND' });
      expect((error as Error).message).toMatch(/^\[netwho\/listeners\] no process owns/);
    },
  );

  it('getByPid of a pid no process has rejects with E_NOT_FOUND', async () => {
    await expect(api.getByPid(2 ** 31 - 1)).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });

  it('getAll lists sockets, each with a process or the reason it has none', async () => {
    const all = await api.getAll();
    for (const l of all) {
      expect(l.process !== undefined || l.unowned !== undefined).toBe(true);
      expect(['TCP', 'UDP']).toContain(l.protocol);
      expect([4, 6]).toContain(l.family);
      expect(l.socket.port).toBeGreaterThanOrEqual(0);
    }
  });
}

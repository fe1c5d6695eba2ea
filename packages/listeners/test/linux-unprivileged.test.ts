import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Listener, ScanResult } from '../src/index';
import { type HeldSocket, type Holder, isRoot, NODE_PATH, startHolder } from './helpers';

const CALLS = join(import.meta.dirname, 'fixtures', 'calls.mjs');
const PACKAGE_DIR = join(import.meta.dirname, '..');

type Outcome<T> =
  | { ok: T; error?: undefined }
  | { ok?: undefined; error: { name: string; code: string; reason?: string } };

/** Makes the calls as `nobody`, against the built package (dist/), in a fresh process. */
function asNobody(calls: unknown[][]): Outcome<unknown>[] {
  const out = execFileSync(
    'setpriv',
    ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, CALLS, JSON.stringify(calls)],
    {
      cwd: PACKAGE_DIR,
      encoding: 'utf8',
    },
  );
  return JSON.parse(out) as Outcome<unknown>[];
}

describe.runIf(process.platform === 'linux' && isRoot)(
  'Linux backend as an unprivileged user (nobody)',
  () => {
    let rootHolder: Holder;
    let nobodyHolder: Holder;
    beforeAll(async () => {
      rootHolder = await startHolder([
        { kind: 'tcp-listen', host: '127.0.0.1' },
        { kind: 'udp', host: '127.0.0.1' },
      ]);
      nobodyHolder = await startHolder([{ kind: 'tcp-listen', host: '127.0.0.1' }], {
        user: 'nobody',
        group: 'nogroup',
      });
    });
    afterAll(async () => {
      await rootHolder?.stop();
      await nobodyHolder?.stop();
    });

    it('own sockets resolve, root-owned ones come back flagged permission, nothing throws', () => {
      const [scan] = asNobody([['scan']]) as [Outcome<ScanResult>];
      expect(scan.error).toBeUndefined();
      const { listeners, summary } = scan.ok!;
      // By protocol, address and port: other processes may use the same port number otherwise.
      const at = (s: HeldSocket) =>
        listeners.filter(
          (l: Listener) =>
            l.protocol === (s.kind === 'udp' ? 'UDP' : 'TCP') &&
            l.socket.address === s.host &&
            l.socket.port === s.port &&
            !l.remote,
        );

      const mine = at(nobodyHolder.sockets[0]!);
      expect(mine).toHaveLength(1);
      expect(mine[0]!.process).toEqual({ pid: nobodyHolder.pid, name: 'node', path: NODE_PATH });

      for (const s of rootHolder.sockets) {
        const theirs = at(s);
        expect(theirs).toHaveLength(1);
        expect(theirs[0]!.process).toBeUndefined();
        expect(theirs[0]!.unowned).toBe('permission');
      }
      expect(summary.unowned.permission).toBeGreaterThanOrEqual(2);
    });

    it('lookups: own port found, root port E_OWNER_UNKNOWN(permission), root pid E_PERMISSION', () => {
      const [own, theirs, theirPid, ownPid] = asNobody([
        ['getProcessByPort', nobodyHolder.sockets[0]!.port, 'TCP'],
        ['getProcessByPort', rootHolder.sockets[0]!.port, 'TCP'],
        ['getByPid', rootHolder.pid],
        ['getByPid', nobodyHolder.pid],
      ]);
      expect(own!.ok).toMatchObject({ pid: nobodyHolder.pid });
      expect(theirs!.error).toMatchObject({
        name: 'ListenersError',
        code: 'E_OWNER_UNKNOWN',
        reason: 'permission',
      });
      expect(theirPid!.error).toMatchObject({ code: 'E_PERMISSION' });
      expect(ownPid!.ok).toHaveLength(1);
    });
  },
);

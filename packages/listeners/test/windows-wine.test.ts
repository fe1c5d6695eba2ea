import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The Windows backend for real, under Wine (shared/notes/wine.md): Node for Windows runs a probe
 * that opens sockets and asks the built package about them. Runs when Wine is installed (the README
 * test command installs it as root); otherwise skipped with the reason printed.
 */
const hasWine = spawnSync('sh', ['-c', 'command -v wine']).status === 0;
if (!hasWine)
  console.log(
    'Windows backend test skipped: wine is not installed (the README test command installs it as root)',
  );

describe.runIf(process.platform === 'linux' && hasWine)('Windows backend under Wine', () => {
  const here = import.meta.dirname;
  let dir = '';
  let result: {
    pid: number;
    execPath: string;
    error?: string;
    isSupported: boolean;
    ports: { listen: number; client: number; udp: number };
    summary: { sockets: number; sources: string[] };
    sample: Array<{
      protocol: string;
      socket: { address: string; port: number };
      state: string;
      process?: { pid: number; name: string; path: string };
    }>;
    allValid: boolean;
    udpOwner: { pid: number; name: string; path: string };
    listenOwner: { pid: number; name: string } | { error: string };
    byPid: string[];
    badPort: string;
    scanMs: number;
  };

  beforeAll(() => {
    const ready = execFileSync('bash', [join(here, 'wine', 'setup.sh')], {
      encoding: 'utf8',
      timeout: 600_000,
    });
    dir = /ready (.*)/.exec(ready)![1]!.trim();
    copyFileSync(join(here, '..', 'dist', 'index.cjs'), join(dir, 'app', 'listeners.cjs'));
    copyFileSync(join(here, 'wine', 'probe.cjs'), join(dir, 'app', 'probe.cjs'));
    const out = join(dir, 'app', 'out.json');
    spawnSync('rm', ['-f', out]);
    const run = spawnSync(
      'wine',
      [join(dir, 'nodewin', 'package', 'bin', 'node.exe'), 'probe.cjs', 'out.json'],
      {
        cwd: join(dir, 'app'),
        env: { ...process.env, WINEDEBUG: '-all', WINEARCH: 'win64', WINEPREFIX: join(dir, 'prefix') },
        encoding: 'utf8',
        timeout: 180_000,
      },
    );
    if (!existsSync(out))
      throw new Error(`the probe wrote nothing (exit ${run.status}): ${run.stderr?.slice(-2000)}`);
    result = JSON.parse(readFileSync(out, 'utf8')) as typeof result;
    console.log(`Wine: ${result.summary?.sockets} sockets in ${result.scanMs} ms`);
  }, 700_000);

  it('runs without error and reports the Windows source', () => {
    expect(result.error).toBeUndefined();
    expect(result.isSupported).toBe(true);
    expect(result.summary.sources).toEqual(['iphlpapi']);
    expect(result.summary.sockets).toBeGreaterThan(0);
    expect(result.allValid).toBe(true);
    expect(result.badPort).toBe('E_INVALID_ARGUMENT');
  });

  it("maps the UDP socket and the client end of the TCP connection to the probe's pid and exe path", () => {
    const exe = result.execPath.toLowerCase();
    expect(result.udpOwner).toMatchObject({ pid: result.pid, name: 'node.exe' });
    expect(result.udpOwner.path.toLowerCase()).toBe(exe);
    const client = result.sample.find((l) => l.protocol === 'TCP' && l.socket.port === result.ports.client);
    expect(client?.state).toBe('Established');
    expect(client?.process?.pid).toBe(result.pid);
    expect(result.byPid).toEqual(
      expect.arrayContaining([`UDP:${result.ports.udp}`, `TCP:${result.ports.client}`]),
    );
  });

  it('finds the TCP listener on its port (Wine reports pid 0 for listeners: accepted only here)', () => {
    const listener = result.sample.find(
      (l) => l.protocol === 'TCP' && l.socket.port === result.ports.listen && l.state === 'Listen',
    );
    expect(listener).toBeDefined();
    expect([result.pid, 0]).toContain(listener!.process?.pid);
    if ('pid' in result.listenOwner) expect([result.pid, 0]).toContain(result.listenOwner.pid);
  });
});

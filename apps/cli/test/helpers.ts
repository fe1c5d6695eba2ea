import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const BIN = join(import.meta.dirname, '..', 'dist', 'netwho.js');
export const isRoot = process.getuid?.() === 0;
export const hasTool = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

/** Runs the built CLI to completion. */
export function netwho(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the built CLI in the background; resolves with its output when it exits. */
export function netwhoAsync(args: string[], options: { user?: string } = {}) {
  const [command, argv] = options.user
    ? [
        'setpriv',
        [`--reuid=${options.user}`, '--regid=65534', '--clear-groups', process.execPath, BIN, ...args],
      ]
    : [process.execPath, [BIN, ...args]];
  const child = spawn(command, argv as string[], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return once(child, 'exit').then(([code]) => ({ code: code as number, stdout, stderr }));
}

export interface Traffic {
  pid: number;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts the traffic fixture as a program with a name of its own (node through a symlink named
 * `name`, so its kernel name is `name`), and waits for its port.
 */
export async function startTraffic(name = 'netwho-traffic', args: number[] = []): Promise<Traffic> {
  const dir = mkdtempSync(join(tmpdir(), 'netwho-cli-'));
  const program = join(dir, name);
  symlinkSync(process.execPath, program);
  const child = spawn(
    program,
    [join(import.meta.dirname, '..', '..', '..', 'test-utils', 'traffic.mjs'), ...args.map(String)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const { pid, port } = JSON.parse(line) as { pid: number; port: number };
  return {
    pid,
    port,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.stdin!.end();
      child.kill();
      await once(child, 'exit');
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

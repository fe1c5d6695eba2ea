import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BIN = join(import.meta.dirname, '..', 'dist', 'netwho.js');
export const isRoot = process.getuid?.() === 0;
/** Every run keeps its history here, never in the user's own state folder (writable by nobody's runs too). */
export const STATE_HOME = mkdtempSync(join(tmpdir(), 'netwho-cli-state-'));
chmodSync(STATE_HOME, 0o1777);

export const hasTool = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

/** Runs the built CLI to completion. */
export function netwho(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, XDG_STATE_HOME: STATE_HOME, ...env },
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
    env: { PATH: process.env.PATH, XDG_STATE_HOME: STATE_HOME },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return once(child, 'exit').then(([code]) => ({ code: code as number, stdout, stderr }));
}

export { startTraffic, type Traffic } from '../../../test-utils/start-traffic';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const isRoot = process.getuid?.() === 0;
const TRAFFIC = join(import.meta.dirname, '..', '..', '..', 'test-utils', 'traffic.mjs');

export interface Traffic {
  pid: number;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** The shared loopback traffic fixture, run as a program named `name` (node through a symlink). */
export async function startTraffic(name: string, args: number[] = []): Promise<Traffic> {
  const program = join(mkdtempSync(join(tmpdir(), 'netwho-web-')), name);
  symlinkSync(process.execPath, program);
  const child = spawn(program, [TRAFFIC, ...args.map(String)], { stdio: ['pipe', 'pipe', 'inherit'] });
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

export async function waitFor<T>(get: () => Promise<T | undefined> | T | undefined, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await get();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const TRAFFIC = join(import.meta.dirname, 'traffic.mjs');

export interface Traffic {
  pid: number;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts the loopback traffic fixture (traffic.mjs) as a program with a name of its own: node
 * through a symlink named `name`, so its kernel name is `name`. Resolves with its pid and port.
 */
export async function startTraffic(name: string, args: number[] = []): Promise<Traffic> {
  const program = join(mkdtempSync(join(tmpdir(), 'netwho-traffic-')), name);
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

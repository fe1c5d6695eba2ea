import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const isRoot = process.getuid?.() === 0;
const FIXTURES = join(import.meta.dirname, 'fixtures');

export interface Started<T> {
  child: ChildProcess;
  /** The first JSON line the fixture printed. */
  first: T;
  /** Resolves with the last JSON line when the fixture exits. */
  done: Promise<T>;
  stop(): Promise<void>;
}

/** Runs a fixture with node and waits for its first JSON line on stdout. */
export async function startFixture<T>(name: string, args: (string | number)[]): Promise<Started<T>> {
  const child = spawn(process.execPath, [join(FIXTURES, name), ...args.map(String)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  let last: T | undefined;
  const done = new Promise<T>((resolve, reject) => {
    lines.on('line', (line) => (last = JSON.parse(line) as T));
    child.on('exit', (code) =>
      last === undefined ? reject(new Error(`${name} exited with ${code}`)) : resolve(last),
    );
  });
  const [line] = (await Promise.race([once(lines, 'line'), done.then(() => [''])])) as [string];
  const first = JSON.parse(line) as T;
  return {
    child,
    first,
    done,
    async stop() {
      if (child.exitCode !== null) return;
      child.stdin!.end();
      child.kill();
      await once(child, 'exit');
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check` is true, polling, for at most `ms`. */
export async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await sleep(20);
  }
  return true;
}

import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, realpathSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const HOLDER = join(import.meta.dirname, 'fixtures', 'holder.mjs');
/** The real path of the node binary: what /proc/<pid>/exe of a holder reads. */
export const NODE_PATH = realpathSync(process.execPath);

export type SocketSpec =
  | { kind: 'tcp-listen' | 'udp'; host: string; port?: number }
  | { kind: 'tcp-connect'; host: string; port: number };

export interface HeldSocket {
  kind: SocketSpec['kind'];
  host: string;
  port: number;
  remotePort?: number;
}

export interface Holder {
  pid: number;
  sockets: HeldSocket[];
  child: ChildProcess;
  /** Resolves once the holder's listeners have accepted `count` connections in all. */
  accepted(count: number): Promise<void>;
  /** Ends the process and waits for it to be gone. */
  stop(): Promise<void>;
}

/**
 * Starts a real process holding `specs` and waits until its sockets are open. `program` runs the
 * holder through another path to node (a symlink with a long name, say); `user` and `group` drop to
 * them with setpriv (tests run as root).
 */
export async function startHolder(
  specs: SocketSpec[],
  options: { program?: string; user?: string; group?: string } = {},
): Promise<Holder> {
  const program = options.program ?? process.execPath;
  const [command, args] = options.user
    ? [
        'setpriv',
        [
          `--reuid=${options.user}`,
          `--regid=${options.group ?? options.user}`,
          '--clear-groups',
          program,
          HOLDER,
          JSON.stringify(specs),
        ],
      ]
    : [program, [HOLDER, JSON.stringify(specs)]];
  const child = spawn(command, args as string[], { stdio: ['pipe', 'pipe', 'inherit'] });
  // Every line is taken as it comes (a later one may arrive in the same chunk as the first).
  const lines = createInterface({ input: child.stdout! });
  const news = new EventEmitter();
  let first: string | undefined;
  let acceptedCount = 0;
  lines.on('line', (line) => {
    if (first === undefined) first = line;
    else if ('accepted' in JSON.parse(line)) acceptedCount++;
    news.emit('line');
  });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`holder exited with ${code}`);
  });
  exited.catch(() => {}); // only an error for those waiting
  while (first === undefined) await Promise.race([once(news, 'line'), exited]);
  const report = JSON.parse(first) as { pid: number; sockets: HeldSocket[] };
  return {
    pid: report.pid,
    sockets: report.sockets,
    child,
    async accepted(count) {
      while (acceptedCount < count) await Promise.race([once(news, 'line'), exited]);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * A holder of `specs` (the first a TCP listener on 127.0.0.1) and a client process connected to
 * it. Returns once the server has accepted: until then its end of the connection sits in the
 * kernel's accept queue and belongs to no process.
 */
export async function startConnected(
  specs: SocketSpec[],
  options: Parameters<typeof startHolder>[1] = {},
): Promise<{ server: Holder; client: Holder }> {
  const server = await startHolder(specs, options);
  try {
    const port = server.sockets[0]!.port;
    const client = await startHolder([{ kind: 'tcp-connect', host: '127.0.0.1', port }]);
    await server.accepted(1);
    return { server, client };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** A symlink to node with a name longer than the kernel's 15-character comm. */
export function longNamedNode(name = 'netwho-test-socket-holder'): string {
  const dir = mkdtempSync(join(tmpdir(), 'netwho-listeners-'));
  const link = join(dir, name);
  symlinkSync(process.execPath, link);
  return link;
}

export const isRoot = process.getuid?.() === 0;

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether a command-line tool is installed (the test setup installs tcpdump and tshark on Debian). */
export function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

export const isRoot = process.getuid?.() === 0;

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'netwho-capture-'));
}

/** Runs tshark and returns stdout and stderr (tshark refuses nothing as root with -o options set). */
export function tshark(args: string[]): { stdout: string; stderr: string } {
  const r = spawnSync('tshark', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')} failed: ${r.stderr}`);
  // Running as root, tshark warns about it on stderr; that is not about the file.
  const stderr = r.stderr
    .split('\n')
    .filter((l) => l && !/Running as user "root"|could be dangerous/.test(l))
    .join('\n');
  return { stdout: r.stdout, stderr };
}

/**
 * tshark's view of a file's TCP and UDP conversations: "a:port b:port" -> frames and bytes, summed
 * from tshark's own dissection of each packet (its -z conv table rounds bytes to kB).
 */
export function tsharkConversations(file: string): Map<string, { frames: number; bytes: number }> {
  const out = new Map<string, { frames: number; bytes: number }>();
  const fields = [
    'ip.src',
    'ipv6.src',
    'tcp.srcport',
    'udp.srcport',
    'ip.dst',
    'ipv6.dst',
    'tcp.dstport',
    'udp.dstport',
    'frame.len',
  ];
  const { stdout } = tshark([
    '-r',
    file,
    '-Y',
    'tcp or udp',
    '-T',
    'fields',
    ...fields.flatMap((f) => ['-e', f]),
  ]);
  for (const line of stdout.trim().split('\n')) {
    const [src4, src6, tcpSrc, udpSrc, dst4, dst6, tcpDst, udpDst, length] = line.split('\t');
    const a = `${src4 || src6}:${tcpSrc || udpSrc}`;
    const b = `${dst4 || dst6}:${tcpDst || udpDst}`;
    const key = [a, b].sort().join(' ');
    const entry = out.get(key) ?? { frames: 0, bytes: 0 };
    entry.frames++;
    entry.bytes += Number(length);
    out.set(key, entry);
  }
  return out;
}

/** Starts tcpdump writing `file`; resolves once it listens, returns a stop function. */
export async function startTcpdump(
  device: string,
  file: string,
  filter: string[],
): Promise<() => Promise<void>> {
  const child = spawn('tcpdump', ['-i', device, '-U', '-w', file, ...filter], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      if (d.toString().includes('listening on')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`tcpdump exited with ${code}`)));
  });
  return () =>
    new Promise<void>((resolve) => {
      child.removeAllListeners('exit');
      child.on('exit', () => resolve());
      child.kill('SIGINT');
    });
}

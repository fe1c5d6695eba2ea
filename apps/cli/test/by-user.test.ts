import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRoot, netwho, netwhoAsync, sleep } from './helpers';

describe.runIf(process.platform === 'linux' && isRoot)('watch --by user', () => {
  it('one group line per user, the bytes of a client run as nobody under nobody', async () => {
    const server = createServer((s) => s.on('error', () => {}).resume());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const db = join(mkdtempSync(join(tmpdir(), 'netwho-by-user-')), 'h.db');
    const watch = netwhoAsync([
      'watch',
      '--raw',
      '-i',
      'lo',
      '--duration',
      '5',
      '--db',
      db,
      '--by',
      'user',
      '-f',
      `tcp port ${port}`,
    ]);
    await sleep(2000);
    // A client as nobody sending 50 KB a few times.
    const client = spawn(
      'setpriv',
      [
        '--reuid=nobody',
        '--regid=nogroup',
        '--clear-groups',
        process.execPath,
        '-e',
        `let n=0;const t=setInterval(()=>{const s=require('net').connect(${port},'127.0.0.1',()=>s.end(Buffer.alloc(50000)));s.on('error',()=>{});if(++n===5)clearInterval(t)},300)`,
      ],
      { stdio: 'ignore' },
    );
    const exited = once(client, 'exit');
    const r = await watch;
    await exited;
    server.close();
    const groups = r.stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as { type: string; by?: string; label?: string; key?: string; bytesOut?: number },
      )
      .filter((l) => l.type === 'group');
    expect(groups.every((g) => g.by === 'user')).toBe(true);
    const nobody = groups.filter((g) => g.label === 'nobody').at(-1);
    expect(nobody?.key).toBe('user:65534');
    expect(nobody!.bytesOut).toBeGreaterThan(200_000);
    // What watch recorded, per user: the same bytes under nobody.
    const h = netwho(['history', '--db', db, '--since', '1h', '--by', 'user', '--json']);
    expect(h.code).toBe(0);
    const users = (
      JSON.parse(h.stdout) as { programs: Array<{ program: { user: string }; bytesOut: number }> }
    ).programs;
    expect(users.find((u) => u.program.user === 'nobody')?.bytesOut).toBeGreaterThan(200_000);
  });
});

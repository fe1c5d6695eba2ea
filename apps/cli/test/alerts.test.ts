import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, isRoot, netwho, STATE_HOME, sleep, startTraffic } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'netwho-alerts-cli-'));

describe('alert rules: the config file and the flags', () => {
  it('--check prints the rules in force; a rule that is not valid exits 2 naming where', () => {
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({ alerts: { rules: [{ kind: 'volume', above: '1GB', window: '1h' }] } }),
    );
    const ok = netwho(['alerts', '--check', '--config', config, '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual([
      { kind: 'volume', id: 'volume-1', above: 1e9, windowMs: 3_600_000, direction: 'both' },
    ]);
    writeFileSync(config, JSON.stringify({ alerts: { rules: [{ kind: 'rate', above: 'lots' }] } }));
    const bad = netwho(['alerts', '--check', '--config', config]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/config\.json: alerts\.rules\[0\]\.above: must be a size/);
    const flag = netwho([
      'watch',
      '--raw',
      '--duration',
      '1',
      '--no-capture',
      '--no-history',
      '--config',
      join(dir, 'none.json'),
      '--alert-rate',
      'quick',
    ]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/the command line: alerts\.rules\[0\]\.above/);
    const list = netwho([
      'watch',
      '--raw',
      '--duration',
      '1',
      '--no-capture',
      '--no-history',
      '--blocklist',
      join(dir, 'missing.txt'),
    ]);
    expect(list.code).toBe(2);
    expect(list.stderr).toMatch(/missing\.txt: blocklist cannot be read \(ENOENT\)/);
  });
});

describe.runIf(process.platform === 'linux' && isRoot)('alerts end to end', () => {
  it('a real transfer above --alert-rate reaches a webhook receiver, and netwho alerts lists it', async () => {
    const bodies: Array<Record<string, unknown>> = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        bodies.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const hook = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
    // 200 KB echoed every 50 ms: about 8 MB/s each way, far above 100 KB/s.
    const traffic = await startTraffic('netwho-alerted', [0, 50, 200_000]);
    const agent = spawn(
      process.execPath,
      [
        BIN,
        'agent',
        '-i',
        'lo',
        '-f',
        `tcp port ${traffic.port}`,
        '--metrics',
        '127.0.0.1:0',
        '--no-history',
        '--config',
        join(dir, 'none.json'),
        '--alert-rate',
        '100KB/s',
        '--webhook',
        hook,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, XDG_STATE_HOME: STATE_HOME } },
    );
    let log = '';
    agent.stderr!.on('data', (d) => (log += d));
    try {
      for (
        let i = 0;
        i < 100 && !bodies.some((b) => (b.program as { name: string }).name === 'netwho-alerted');
        i++
      )
        await sleep(100);
    } finally {
      agent.kill('SIGTERM');
      await once(agent, 'exit');
      await traffic.stop();
      receiver.close();
    }
    const alert = bodies.find((b) => (b.program as { name: string }).name === 'netwho-alerted');
    expect(alert).toMatchObject({ rule: { id: 'flag-rate', kind: 'rate' }, figures: { threshold: 100_000 } });
    expect((alert!.figures as { rate: number }).rate).toBeGreaterThan(100_000);
    expect(alert!.message).toMatch(/^netwho-alerted moved .* \(above 97\.7 KiB\/s\)$/);
    // The agent logged it, and said so at the end.
    const lines = log
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(
      lines.some(
        (l) =>
          l['event.name'] === 'alert' || l.event === 'alert' || JSON.stringify(l).includes('"flag-rate"'),
      ),
    ).toBe(true);
    const recent = JSON.parse(netwho(['alerts', '--json']).stdout) as Array<{ program: { name: string } }>;
    expect(recent.some((a) => a.program.name === 'netwho-alerted')).toBe(true);
    expect(netwho(['alerts']).stdout).toMatch(/flag-rate: netwho-alerted moved/);
  });

  it('--alert-new-program: a program that starts using the network after watch began', async () => {
    // node (the traffic fixture) talks from the start; bash (another executable) starts later.
    const first = await startTraffic('netwho-before', [0, 100, 2000]);
    const child = spawn(
      process.execPath,
      [
        BIN,
        'watch',
        '--raw',
        '-i',
        'lo',
        '--duration',
        '6',
        '--no-history',
        '--config',
        join(dir, 'none.json'),
        '--alert-new-program',
        '-f',
        `tcp port ${first.port}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XDG_STATE_HOME: STATE_HOME } },
    );
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await new Promise((r) => child.stdout!.once('data', r)); // the first tick
    await sleep(3500); // past the warm-up: the programs labelled by then are the baseline
    const later = spawn(
      'bash',
      [
        '-c',
        `for i in 1 2 3 4 5 6 7 8; do exec 3<>/dev/tcp/127.0.0.1/${first.port}; echo hello >&3; sleep 0.3; exec 3>&-; done`,
      ],
      { stdio: 'ignore' },
    );
    await once(child, 'exit');
    later.kill();
    await first.stop();
    const alerts = out
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            type: string;
            rule?: { kind: string };
            program?: { name: string; path: string };
          },
      )
      .filter((l) => l.type === 'alert');
    expect(alerts.map((a) => a.program!.name)).toContain('bash');
    expect(alerts.some((a) => a.program!.path.endsWith('/node'))).toBe(false); // the baseline
    expect(alerts.every((a) => a.rule!.kind === 'new-program')).toBe(true);
  });
});

import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Alert, AlertLog, WebhookSink } from '../src/index';

const alert = (n: number): Alert => ({
  at: n,
  rule: { id: 'rate-1', kind: 'rate' },
  program: { name: 'curl', path: '/usr/bin/curl', pid: 7 },
  message: `alert ${n}`,
  figures: { rate: n },
});

async function receiver(
  answer: (n: number) => number,
): Promise<{ server: Server; url: string; bodies: unknown[] }> {
  const bodies: unknown[] = [];
  let n = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const status = answer(n++);
      if (status === 200) bodies.push(JSON.parse(body));
      if (status === 0) return; // never answers: the client's timeout ends it
      res.writeHead(status).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, bodies };
}

describe('WebhookSink', () => {
  it('POSTs each alert as JSON, retrying with backoff after a failure', async () => {
    const r = await receiver((n) => (n === 0 ? 503 : 200));
    const sink = new WebhookSink(
      { url: r.url, timeoutMs: 1000, retries: 2, headers: { authorization: 'Bearer t' } },
      { backoffMs: 20 },
    );
    sink.send(alert(1));
    sink.send(alert(2));
    await sink.close(3000);
    r.server.close();
    expect(r.bodies).toEqual([alert(1), alert(2)]);
    expect(sink.stats()).toMatchObject({ delivered: 2, failures: 1, dropped: 0 });
  });

  it('a receiver that is down or hangs: sending never waits, and what is given up is counted', async () => {
    const hang = await receiver(() => 0);
    const sink = new WebhookSink(
      { url: hang.url, timeoutMs: 100, retries: 1, headers: {} },
      { backoffMs: 10, maxQueued: 2 },
    );
    const t = performance.now();
    for (let i = 0; i < 5; i++) sink.send(alert(i));
    expect(performance.now() - t).toBeLessThan(50);
    await sink.close(2000);
    hang.server.closeAllConnections();
    hang.server.close();
    const s = sink.stats();
    expect(s.delivered).toBe(0);
    expect(s.dropped).toBe(5); // 2 pushed out of the full queue, the others given up after their retry
    expect(s.lastError).toBe('timed out');
    const down = new WebhookSink({ url: 'http://127.0.0.1:9/hook', timeoutMs: 500, retries: 0, headers: {} });
    down.send(alert(9));
    await down.close(2000);
    expect(down.stats()).toMatchObject({ delivered: 0, dropped: 1, failures: 1 });
  });
});

describe('AlertLog', () => {
  it('keeps recent alerts in a bounded JSON-lines file', () => {
    const log = new AlertLog(
      join(mkdtempSync(join(tmpdir(), 'netwho-alert-log-')), 'sub', 'alerts.jsonl'),
      2000,
    );
    for (let i = 0; i < 40; i++) log.append(alert(i));
    const recent = log.recent(100);
    expect(recent.length).toBeGreaterThan(5);
    expect(recent.length).toBeLessThan(40); // the older half went when the file passed 2,000 bytes
    expect(recent.at(-1)).toEqual(alert(39));
    expect(log.recent(3).map((a) => a.at)).toEqual([37, 38, 39]);
  });
});

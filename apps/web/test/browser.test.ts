import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { HistoryStore } from '@netwho/history';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Dashboard, startDashboard } from '../src/index';
import { isRoot, startTraffic, type Traffic } from './helpers';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];
/** The README shows docs/dashboard.png; runs write to .cache unless UPDATE_SCREENSHOT=1. */
const SCREENSHOT =
  process.env.UPDATE_SCREENSHOT === '1'
    ? join(import.meta.dirname, '..', 'docs', 'dashboard.png')
    : join(import.meta.dirname, '..', '..', '..', '.cache', 'dashboard.png');

describe.runIf(process.platform === 'linux' && isRoot && existsSync(CHROMIUM))(
  'dashboard in real headless Chromium',
  () => {
    let traffic: Traffic;
    let dashboard: Dashboard;
    let browser: Browser;
    beforeAll(async () => {
      traffic = await startTraffic('netwho-browsertest', [0, 150, 20_000]);
      dashboard = await startDashboard({
        port: 0,
        devices: ['lo'],
        filter: `tcp port ${traffic.port}`,
        intervalMs: 500,
        dns: false,
      });
      browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    });
    afterAll(async () => {
      await browser?.close();
      await dashboard?.close();
      await traffic?.stop();
    });

    it('Overview shows the program with traffic; Inspect filters; Ports lists sockets', async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(dashboard.url);
      const row = page.getByTestId('top-programs').locator('li', { hasText: 'netwho-browsertest' });
      await row.waitFor({ timeout: 15_000 });
      // Non-zero traffic: the total is shown in bytes, and the bar has width.
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll('[data-testid=top-programs] li')].some(
            (li) =>
              li.textContent?.includes('netwho-browsertest') &&
              !/\b0 B$/.test(li.querySelector('.total')?.textContent ?? '0 B'),
          ),
        undefined,
        { timeout: 15_000 },
      );
      await page.waitForTimeout(1500); // a few chart points for the screenshot
      mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT });

      // Grouped per program by default; per process on request, the same program there.
      await page.getByTestId('group-by').selectOption('pid');
      await row.waitFor();
      await page.getByTestId('group-by').selectOption('program');
      await row.waitFor();
      // A program of several processes opens into them: the fixture's own pid among them.
      await row.getByTestId('expand').click();
      await row
        .getByTestId('members')
        .locator('li', { hasText: `(${traffic.pid})` })
        .waitFor();
      await row.getByTestId('expand').click();

      // Clicking the program opens Inspect filtered to it.
      await row.locator('a').first().click();
      await page.waitForURL(/#\/inspect\?program=pid/);
      const table = page.getByTestId('connections');
      await table.locator('tbody tr').first().waitFor();
      const programs = await table.locator('tbody tr td:first-child').allTextContents();
      expect(programs.length).toBeGreaterThan(0);
      expect(programs.every((p) => p.includes('netwho-browsertest'))).toBe(true);
      // The text filter narrows further: the server port matches, nonsense matches nothing.
      await page.getByTestId('filter').fill(String(traffic.port));
      expect(await table.locator('tbody tr').count()).toBeGreaterThan(0);
      await page.getByTestId('filter').fill('no-such-text-anywhere');
      await page.waitForFunction(
        () => document.querySelectorAll('[data-testid=connections] tbody tr').length === 0,
      );

      await page.goto(`${dashboard.url}#/ports`);
      const ports = page.getByTestId('ports');
      await ports
        .locator('tbody tr', { hasText: String(traffic.port) })
        .first()
        .waitFor();
      expect(await ports.locator('tbody tr', { hasText: 'netwho-browsertest' }).count()).toBeGreaterThan(0);

      await page.goto(`${dashboard.url}#/program/${encodeURIComponent(`pid:${traffic.pid}`)}`);
      await page.locator('.program-title', { hasText: 'netwho-browsertest' }).waitFor();
      expect(errors).toEqual([]);
    });

    it('names remote ends: Inspect’s Host and Where, its host and country filters; Overview’s hosts by name', async () => {
      // A TLS client sending an SNI to a server here; the server never answers, which is enough.
      const server = createServer((s) => s.on('error', () => {}).resume());
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as { port: number }).port;
      const named = await startDashboard({
        port: 0,
        devices: ['lo'],
        filter: `tcp port ${port}`,
        intervalMs: 500,
        dns: false,
      });
      const clients: TLSSocket[] = [];
      try {
        await new Promise((r) => setTimeout(r, 300));
        for (const name of ['secure.example.test', 'other.example.test'])
          clients.push(tlsConnect({ host: '127.0.0.1', port, servername: name }).on('error', () => {}));
        const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(named.url);
        const hosts = page.getByTestId('top-hosts');
        await hosts.locator('tr', { hasText: 'secure.example.test' }).waitFor({ timeout: 15_000 });
        expect(await hosts.locator('tr', { hasText: 'secure.example.test' }).textContent()).toContain(
          'loopback',
        );
        // The licence of the bundled AS data asks for its link.
        expect(await page.getByTestId('geo-attribution').locator('a').getAttribute('href')).toBe(
          'https://db-ip.com',
        );
        // A host opens Inspect filtered to it.
        await hosts.getByText('secure.example.test').click();
        await page.waitForURL(/#\/inspect\?host=secure\.example\.test/);
        const table = page.getByTestId('connections');
        const rows = table.locator('tbody tr');
        await rows.first().waitFor();
        expect(await rows.count()).toBe(1);
        expect(await rows.first().textContent()).toContain('loopback');
        // A glob matches both names; the country filter's loopback keeps them, another AS none.
        await page.getByTestId('host-filter').fill('*.example.test');
        await page.waitForFunction(
          () => document.querySelectorAll('[data-testid=connections] tbody tr').length === 2,
        );
        await page.getByTestId('country-filter').selectOption('loopback');
        expect(await rows.count()).toBe(2);
        await page.getByTestId('country-filter').selectOption('private');
        await page.waitForFunction(
          () => document.querySelectorAll('[data-testid=connections] tbody tr').length === 0,
        );
        expect(errors).toEqual([]);
      } finally {
        for (const c of clients) c.destroy();
        server.close();
        await named.close();
      }
    });

    it('alerts: a toast as one fires, and the Alerts page lists them', async () => {
      const { AlertEngine, parseAlertConfig } = await import('@netwho/alerts');
      const engine = new AlertEngine(
        parseAlertConfig({
          alerts: { rules: [{ kind: 'rate', id: 'busy', above: 1, program: 'netwho-browsertest' }] },
        }).rules,
        { everyMs: 1000 }, // again every second, so that one fires while the page is open
      );
      const recent: ReturnType<typeof engine.observe> = [];
      const alerting = await startDashboard({
        port: 0,
        devices: ['lo'],
        filter: `tcp port ${traffic.port}`,
        intervalMs: 500,
        dns: false,
        alerts: {
          observe: (s) => {
            const fired = engine.observe(s);
            recent.push(...fired);
            return fired;
          },
          recent: () => recent,
        },
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(alerting.url);
        await page
          .getByTestId('toasts')
          .locator('.toast', { hasText: 'netwho-browsertest moved' })
          .waitFor({ timeout: 15_000 });
        await page.goto(`${alerting.url}#/alerts`);
        const rows = page.getByTestId('alerts').locator('tbody tr');
        await rows.first().waitFor();
        expect(await rows.first().textContent()).toMatch(/busy.*netwho-browsertest.*moved/);
        expect(await page.locator('nav').textContent()).toMatch(/Alerts \(\d+\)/);
        expect(errors).toEqual([]);
      } finally {
        await alerting.close();
      }
    });

    it('shows the banner when capture is not running', async () => {
      const fallback = await startDashboard({ port: 0, capture: 'never', intervalMs: 500, dns: false });
      try {
        const page = await browser.newPage();
        await page.goto(fallback.url);
        await expect(page.getByTestId('banner').textContent()).resolves.toContain('kernel socket counters');
      } finally {
        await fallback.close();
      }
    });

    it('History shows what was recorded: a chart, programs and hosts of the range, a program’s connections', async () => {
      // A file as a running agent leaves it: two programs over the last 30 minutes, alpha's connections.
      const path = join(mkdtempSync(join(tmpdir(), 'netwho-browser-history-')), 'h.db');
      const store = HistoryStore.open({ path });
      const alpha = { name: 'alpha', path: '/usr/bin/alpha', unit: '', container: '' };
      const beta = { name: 'beta', path: '/usr/bin/beta', unit: 'beta.service', container: '' };
      const now = Date.now();
      for (let t = now - 30 * 60_000; t < now - 10_000; t += 10_000) {
        const row = (program: typeof alpha, n: number) => ({
          program,
          bytesIn: n,
          bytesOut: n / 10,
          packetsIn: 1,
          packetsOut: 1,
          connections: 1,
          peakIn: n / 10,
          peakOut: n / 100,
        });
        store.write({
          start: t,
          end: t + 10_000,
          programs: [row(alpha, 50_000), row(beta, 5_000)],
          connections: [
            {
              start: t,
              end: t + 5000,
              protocol: 'TCP',
              localAddress: '10.0.0.2',
              localPort: 40_000,
              remoteAddress: '192.0.2.10',
              remotePort: 443,
              program: alpha,
              remoteName: 'files.example',
              bytesIn: 50_000,
              bytesOut: 5000,
              packetsIn: 40,
              packetsOut: 20,
            },
          ],
        });
      }
      store.close();
      const withHistory = await startDashboard({
        port: 0,
        monitor: new (await import('@netwho/monitor')).SocketTableMonitor(),
        intervalMs: 500,
        dns: false,
        history: { path, record: false },
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(`${withHistory.url}#/history`);
        const programs = page.getByTestId('history-programs');
        await programs.locator('tbody tr', { hasText: 'alpha' }).waitFor({ timeout: 15_000 });
        const names = await programs.locator('tbody tr td:first-child').allTextContents();
        expect(names.slice(0, 2)).toEqual(['alpha', 'beta']); // the busiest first
        await page.getByTestId('history-chart').locator('canvas').waitFor();
        expect(await page.getByTestId('history-hosts').textContent()).toContain('files.example');
        // Another range, then one program's connections.
        await page.getByTestId('history-ranges').getByText('Last day').click();
        await programs.locator('tbody tr', { hasText: 'alpha' }).waitFor();
        await programs.getByText('alpha').click();
        const conns = page.getByTestId('history-connections');
        await conns.locator('tbody tr').first().waitFor();
        expect(await conns.locator('tbody tr').count()).toBeGreaterThan(100);
        expect(await conns.locator('tbody tr').first().textContent()).toContain('files.example');
        await page.screenshot({ path: join(SCREENSHOT, '..', 'history.png') });
        expect(errors).toEqual([]);
      } finally {
        await withHistory.close();
      }
    });
  },
);

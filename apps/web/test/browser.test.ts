import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
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
  },
);

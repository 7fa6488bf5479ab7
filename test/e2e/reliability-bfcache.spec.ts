import { chromium, expect, test, type Browser, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromiumLaunch } from '../../playwright.config';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { delivered, distDir, root } from './fixtures/unload-helpers';

// The back/forward cache with Outbox on every page of an app: page A goes into the cache when the user opens page
// B of the same origin, whose Outbox asks Web Locks who is alive. A cached page that still held its tab lock was
// evicted by that question (WebLocksContention, platform-facts §5); Outbox now lets the lock go at
// pagehide(persisted) and takes it back at pageshow. Measured over 20 navigations.

const NAVIGATIONS = 20;
let collector: Collector;
let browser: Browser;
let pages: http.Server;
let site = '';

test.beforeAll(async () => {
  collector = await startCollector();
  browser = await chromium.launch({ ...chromiumLaunch, ignoreDefaultArgs: ['--disable-back-forward-cache'] });
  // No Cache-Control: no-store here (it keeps a page out of the bfcache): a plain server for the page and bundle.
  const files: Record<string, [string, string]> = {
    '/app.html': [path.join(root, 'test/e2e/fixtures/reliability-app.html'), 'text/html'],
    '/dist/outbox.browser.js': [path.join(distDir, 'outbox.browser.js'), 'text/javascript'],
  };
  pages = http.createServer((req, res) => {
    const file = files[new URL(req.url ?? '/', 'http://x').pathname];
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': file[1] }).end(readFileSync(file[0]));
  });
  await new Promise<void>((r) => pages.listen(0, '127.0.0.1', r));
  site = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
});
test.afterAll(async () => {
  await browser.close();
  await new Promise((r) => pages.close(r));
  await collector.close();
});

const app = (tag: string) => `${site}/app.html?endpoint=${encodeURIComponent(collector.endpoint)}&tag=${tag}`;

async function ready(page: Page): Promise<void> {
  await expect.poll(() => page.evaluate(() => (window as unknown as { ready?: boolean }).ready === true)).toBe(true);
}

test(`bfcache restores over ${NAVIGATIONS} navigations between two pages that both run Outbox; every record delivered once`, async () => {
  test.setTimeout(180_000);
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const cdp = await context.newCDPSession(page);
  await cdp.send('Page.enable');
  const reasons = new Map<string, number>();
  cdp.on('Page.backForwardCacheNotUsed', (e) => {
    for (const r of e.notRestoredExplanations) reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
  });

  await page.goto(app('a0'));
  await ready(page);
  let restored = 0;
  let tracked = 1;
  for (let n = 0; n < NAVIGATIONS; n++) {
    await page.evaluate((n) => (window as unknown as { outbox: { track(t: string, b: unknown): string } }).outbox.track('event-create', { tag: 'a-more', n }), n);
    tracked++;
    await page.waitForTimeout(150);
    await page.goto(app(`b${n}`)); // page B boots Outbox: its recovery queries Web Locks
    await ready(page);
    tracked++;
    await page.waitForTimeout(150);
    await page.goBack({ waitUntil: 'commit' });
    await ready(page);
    const shows = await page.evaluate(() => (window as unknown as { shows: boolean[] }).shows);
    if (shows[shows.length - 1] === true) restored++;
    else tracked++; // not restored: the page loaded anew and tracked its page view again
  }
  const why = [...reasons].map(([r, c]) => `${r}×${c}`).join(', ') || 'none';
  console.log(`[bfcache] restored ${restored}/${NAVIGATIONS}; reasons for not restoring: ${why}`);
  test.info().annotations.push({ type: 'measured', description: `restored ${restored}/${NAVIGATIONS}; not restored because: ${why}` });

  // Every record once: page views of A (a0, re-loads), of every B, and the extra records A tracked.
  await expect
    .poll(() => collector.events().length, { timeout: 20_000 })
    .toBe(tracked);
  expect(collector.stats().duplicates).toBe(0);
  expect(delivered(collector, 'a-more').unique).toBe(NAVIGATIONS);
  expect(await page.evaluate(() => (window as unknown as { outboxErrors: string[] }).outboxErrors)).toEqual([]);
  expect(errors).toEqual([]);
  expect(restored).toBe(NAVIGATIONS);
  await context.close();
});

import { chromium, expect, test, type Browser, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromiumLaunch } from '../../playwright.config';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { boot, expectDelivered, root, storedCount, trackPadded, watchErrors } from './fixtures/unload-helpers';

// Outbox must keep a page eligible for the back/forward cache (no unload/beforeunload listener), and the normal
// fetch transport must keep working after a restore. Playwright disables the bfcache by default: launch without
// that flag, and goBack with waitUntil 'commit' (a restore fires no load event) — platform-facts §5.

let collector: Collector;
let browser: Browser;
let pages: http.Server;
/** Origin of the page server (the collector is another origin: its port differs). */
let site = '';

test.beforeAll(async () => {
  collector = await startCollector();
  browser = await chromium.launch({ ...chromiumLaunch, ignoreDefaultArgs: ['--disable-back-forward-cache'] });
  // The collector serves files with Cache-Control: no-store, which keeps a page out of this Chromium's bfcache
  // (MainResourceHasCacheControlNoStore): serve the page and the bundle from a plain server instead.
  const files: Record<string, [string, string]> = {
    '/blank.html': [path.join(root, 'test/e2e/fixtures/blank.html'), 'text/html'],
    '/dist/outbox.browser.js': [path.join(root, 'dist/outbox.browser.js'), 'text/javascript'],
    // boot() loads the test build (fixtures/page.ts BUNDLE)
    '/dist/testing/outbox.browser.js': [path.join(root, 'dist/testing/outbox.browser.js'), 'text/javascript'],
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
  await browser.close(); // no test here counts on unload delivery at browser close
  await new Promise((r) => pages.close(r));
  await collector.close();
});

/**
 * Waits until the client's start-up recovery is done with Web Locks (no pending request, `outbox:drain` free). A lock
 * request or query that reaches the browser after the page froze counts as contention and evicts the page from the
 * bfcache (seen once in CI as WebLocksContention, when the test left while that first pass was under way).
 */
async function locksSettled(page: Page): Promise<void> {
  await expect
    .poll(() =>
      page.evaluate(async () => {
        const s = await navigator.locks.query();
        return (s.pending ?? []).length === 0 && !(s.held ?? []).some((l) => l.name === 'outbox:drain');
      }),
    )
    .toBe(true);
}

type PageState = { shows: boolean[]; hides: boolean[]; outbox: { track(t: string, b: unknown): string; stats(): { sent: number; queued: number } } };

test('the page enters the bfcache and comes back (pageshow persisted), and Outbox still sends afterwards', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  watchErrors(page, errors);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Page.enable');
  const notUsed: unknown[] = [];
  cdp.on('Page.backForwardCacheNotUsed', (e) => notUsed.push(e));

  await page.goto(`${site}/blank.html`);
  await page.evaluate(() => {
    const w = window as unknown as PageState;
    w.shows = [];
    w.hides = [];
    addEventListener('pageshow', (e) => w.shows.push(e.persisted));
    addEventListener('pagehide', (e) => w.hides.push(e.persisted));
  });
  // flushInterval 3600 and a large flushAt: only the unload path and explicit kicks send.
  await boot(page, { endpoint: collector.endpoint, flushAt: 1000, flushInterval: 3600 });
  await trackPadded(page, 'before', 20);
  await locksSettled(page);

  await page.goto(`${site}/blank.html?away`);
  // The unload path sent what was queued as the page went into the cache.
  await expectDelivered(collector, 'before', 20, 10_000);

  await page.goBack({ waitUntil: 'commit' });
  await page.waitForTimeout(500);
  expect(notUsed).toEqual([]);
  await expect.poll(() => page.evaluate(() => (window as unknown as PageState).shows)).toEqual([true]);
  expect(await page.evaluate(() => (window as unknown as PageState).hides)).toEqual([true]);

  // The restored page's client still works: a queued event goes out when flushAt is reached by the normal path.
  await page.evaluate(() => {
    const o = (window as unknown as PageState).outbox;
    for (let i = 0; i < 1000; i++) o.track('event-create', { tag: 'after', i });
  });
  await expectDelivered(collector, 'after', 1000, 15_000);
  const afterRequests = collector.requests().filter((r) => r.ids.length > 0 && r.contentType === 'application/json');
  expect(afterRequests.length).toBeGreaterThan(0); // normal fetch transport, not the unload path
  expect(await page.evaluate(() => (window as unknown as { outboxLog: string[] }).outboxLog)).toEqual([]);
  expect(errors).toEqual([]);
  await context.close();
});

test('events queued when the page goes into the bfcache but not carried are sent after the restore', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  watchErrors(page, errors);
  await page.goto(`${site}/blank.html`);
  await page.evaluate(() => {
    const w = window as unknown as PageState;
    w.shows = [];
    addEventListener('pageshow', (e) => w.shows.push(e.persisted));
  });
  // The collector is down while the page leaves: the keepalive fetches fail once the page is restored, their events
  // go back to the queue, and the normal transport delivers them after the collector is back.
  await boot(page, { endpoint: collector.endpoint, flushAt: 1000, flushInterval: 3600, retry: { initialDelayMs: 100, maxDelayMs: 500, maxAttempts: 10 } });
  collector.setFault({ mode: 'status', status: 503 });
  await trackPadded(page, 'restore', 30);
  // Leave once the write-ahead transaction has committed: Chromium may refuse the bfcache to a page that leaves with
  // an IndexedDB transaction pending (seen once in a CI run; that case is covered by the spill and the next load).
  await expect.poll(() => storedCount(page)).toBe(30);
  await locksSettled(page);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Page.enable');
  const notUsed: unknown[] = [];
  cdp.on('Page.backForwardCacheNotUsed', (e) => notUsed.push(e.notRestoredExplanations));
  await page.goto(`${site}/blank.html?away`);
  await page.goBack({ waitUntil: 'commit' });
  await expect
    .poll(() => page.evaluate(() => (window as unknown as PageState).shows))
    .toEqual([true])
    .catch((error: Error) => {
      throw new Error(`${error.message}\nChromium's reasons for not restoring: ${JSON.stringify(notUsed)}`);
    });
  collector.setFault({ mode: 'none' });
  await expectDelivered(collector, 'restore', 30, 15_000);
  await expect
    .poll(() => page.evaluate(() => (window as unknown as PageState).outbox.stats()))
    .toMatchObject({ sent: 30, queued: 0 });
  expect(errors).toEqual([]);
  await context.close();
});

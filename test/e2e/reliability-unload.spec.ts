import { chromium, expect, test, type Browser, type Page } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromiumLaunch } from '../../playwright.config';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { boot, delivered, expectDelivered, staticDirs, storedCount, trackPadded, watchErrors } from './fixtures/unload-helpers';
import { duplicateIds } from './fixtures/durable-helpers';

// The unload path as Langfuse needs it: requests with the client's own headers (Authorization, application/json),
// never a beacon unless a relay is configured; no duplicate for what was already in flight; the first request
// goes out before the queue is drained. Chromium measurements print a table (platform-facts §2).

let collector: Collector;

test.beforeAll(async () => {
  collector = await startCollector({ staticDirs });
});
test.afterAll(() => collector.close());
test.beforeEach(() => collector.reset());

/** Nothing is sent by itself: only the unload path can deliver. */
const QUIET = { flushAt: 10_000, flushInterval: 3600, maxBatchBytes: 4 << 20 };
const RUNS = 5;

type Leave = 'goto' | 'close' | 'context.close';

/**
 * One run: a fresh context (a first visit: no connection, no cached preflight), 150 events (~45 KB), then the page
 * goes away by `how`. After a navigation or a tab close the browser profile lives on, as it does for a user: the
 * context is closed only once the records arrived (or 5 s passed). `context.close` ends the profile at once.
 */
async function leaveOnce(browser: Browser, origin: string, endpoint: string, how: Leave, tag: string): Promise<string[]> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  watchErrors(page, errors);
  await page.goto(`${origin}/fixtures/blank.html`);
  await boot(page, { ...QUIET, endpoint });
  await trackPadded(page, tag, 150);
  if (how === 'goto') await page.goto('about:blank');
  else if (how === 'close') await page.close();
  if (how !== 'context.close') await expect.poll(() => delivered(collector, tag).unique, { timeout: 5_000 }).toBe(150).catch(() => {});
  await context.close();
  return errors;
}

for (const [name, pageOrigin, endpointOf, leaves] of [
  ['same origin', (c: Collector) => c.url, (c: Collector) => c.endpoint, ['goto', 'close', 'context.close']],
  // 127.0.0.1 page, localhost collector: a JSON keepalive with Authorization is preflighted (OPTIONS) first.
  // `context.close` right after the unload is the next test's: it ends the profile while the preflight runs.
  ['cross origin (preflighted)', (c: Collector) => c.url, (c: Collector) => c.endpoint.replace('127.0.0.1', 'localhost'), ['goto', 'close']],
] as const) {
  test(`${name}: a keepalive with Authorization and application/json sent at unload arrives, first visit, ${RUNS} runs × ${leaves.join('/')}`, async ({ browser }) => {
    test.setTimeout(120_000);
    const rows: string[] = [];
    for (const how of leaves) {
      let arrived = 0;
      for (let run = 0; run < RUNS; run++) {
        collector.reset();
        const tag = `${how}-${run}`;
        const errors = await leaveOnce(browser, pageOrigin(collector), endpointOf(collector), how, tag);
        await expectDelivered(collector, tag, 150, 5_000);
        arrived++;
        const requests = collector.requests().filter((r) => r.count > 0);
        expect(requests.length).toBeGreaterThan(0);
        for (const r of requests) {
          expect(r.auth).toBe('bearer'); // the Authorization header, not ?pk=
          expect(r.contentType).toBe('application/json');
          expect(r.url).not.toContain('pk=');
        }
        expect(errors).toEqual([]);
      }
      rows.push(`${name} | ${how} | ${arrived}/${RUNS} runs delivered 150/150 with Bearer + application/json`);
    }
    console.log(`[unload-auth]\n${rows.join('\n')}`);
    test.info().annotations.push({ type: 'measured', description: rows.join('; ') });
  });
}

// Closing the whole profile right after the unload (Playwright's context.close; a user quitting the browser) can
// end a cross-origin keepalive before its preflight is answered: measured 2 of 40 and 2 of 30 runs delivered
// 0/150 with no request reaching the collector, while tab closes and navigations with the profile alive delivered
// 70/70 (platform-facts §2). Nothing in the page can finish a request the browser cancels; what must hold is that
// the records are not lost: the next start of the same profile sends what did not arrive.
test('cross origin, the browser quits right after the unload: nothing is lost — the next start sends what did not arrive, duplicates only among what did', async ({ browserName }) => {
  test.skip(browserName !== 'chromium', 'the Chromium case measured in platform-facts §2');
  test.setTimeout(120_000);
  const rows: string[] = [];
  for (let run = 0; run < 3; run++) {
    const profile = mkdtempSync(path.join(os.tmpdir(), 'outbox-quit-'));
    try {
      collector.reset();
      const endpoint = collector.endpoint.replace('127.0.0.1', 'localhost');
      const tag = `quit-${run}`;
      const first = await chromium.launchPersistentContext(profile, { ...chromiumLaunch, headless: true });
      const page1 = first.pages()[0] ?? (await first.newPage());
      const errors: string[] = [];
      watchErrors(page1, errors);
      await page1.goto(`${collector.url}/fixtures/blank.html`);
      await boot(page1, { ...QUIET, endpoint });
      await trackPadded(page1, tag, 150);
      await expect.poll(() => storedCount(page1)).toBe(150); // the write-ahead holds them, as it does within ms
      await first.close(); // the whole browser goes, the unload path with it
      const before = new Set(collector.events().filter((e) => (e.body as { tag?: string })?.tag === tag).map((e) => e.id));
      const second = await chromium.launchPersistentContext(profile, { ...chromiumLaunch, headless: true });
      try {
        const page2 = second.pages()[0] ?? (await second.newPage());
        watchErrors(page2, errors);
        await page2.goto(`${collector.url}/fixtures/blank.html`);
        // What the first start's unload sent is of unknown fate: resent after the sent-grace (injected short).
        await boot(page2, { endpoint, timing: { sentGraceMs: 1500 } });
        await expectDelivered(collector, tag, 150, 20_000);
        await expect.poll(() => storedCount(page2)).toBe(0);
        const twice = duplicateIds(collector);
        expect(twice.filter((id) => !before.has(id))).toEqual([]);
        rows.push(`run ${run}: ${before.size}/150 arrived before the quit, 150/150 after the next start, ${twice.length} twice (all of unknown fate)`);
        expect(errors).toEqual([]);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    }
  }
  console.log(`[unload-quit]\n${rows.join('\n')}`);
  test.info().annotations.push({ type: 'measured', description: rows.join('; ') });
});

test('without a relay no beacon is ever sent; with one, a browser without keepalive fetch or fetchLater beacons to it (text/plain, ?pk=)', async ({ page }) => {
  const errors: string[] = [];
  watchErrors(page, errors);
  await page.goto(`${collector.url}/fixtures/blank.html`);
  await boot(page, QUIET);
  await trackPadded(page, 'norelay', 600); // ~180 KB: more than keepalive + fetchLater can carry
  await page.goto('about:blank');
  await expect.poll(() => delivered(collector, 'norelay').unique, { timeout: 5_000 }).toBeGreaterThan(0);
  expect(collector.requests().filter((r) => r.auth === 'query' || r.contentType?.startsWith('text/plain'))).toEqual([]);
  collector.reset();
  await page.goto(`${collector.url}/fixtures/blank.html?relay`);
  await page.evaluate(() => indexedDB.deleteDatabase('outbox'));
  // A browser without keepalive fetch or fetchLater (an old one): toward a relay, beacons carry it.
  await page.evaluate(() => {
    const original = window.fetch.bind(window);
    window.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
      if (init?.keepalive) throw new TypeError('keepalive is not supported here');
      return original(input, init);
    };
    delete (window as { fetchLater?: unknown }).fetchLater;
  });
  await boot(page, { ...QUIET, relay: collector.endpoint });
  await trackPadded(page, 'relay', 100);
  await page.goto('about:blank');
  await expect.poll(() => collector.requests().filter((r) => r.auth === 'query' && r.contentType?.startsWith('text/plain')).length, { timeout: 5_000 }).toBeGreaterThan(0);
  expect(errors).toEqual([]);
});

test(`a plain navigation after 200 events (default options): 200/200 and no duplicate, ${RUNS} runs`, async ({ browser }) => {
  test.setTimeout(120_000);
  const dups: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    collector.reset();
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    watchErrors(page, errors);
    await page.goto(`${collector.url}/fixtures/blank.html`);
    await boot(page, {});
    await trackPadded(page, 'nav', 200);
    await page.goto('about:blank');
    await expectDelivered(collector, 'nav', 200, 5_000);
    await page.waitForTimeout(300); // late arrivals would be duplicates
    dups.push(collector.stats().duplicates);
    expect(errors).toEqual([]);
    await context.close();
  }
  console.log(`[unload-dups] duplicates per run: ${dups.join(', ')}`);
  test.info().annotations.push({ type: 'measured', description: `duplicates per run: ${dups.join(', ')}` });
  expect(dups).toEqual(dups.map(() => 0));
});

/** Installs a fetch wrapper noting, for the first keepalive request made in a pagehide, the queue and the delay. */
async function watchFirstUnloadRequest(page: Page): Promise<void> {
  await page.evaluate(() => {
    type Stats = { queued: number; inflight: number; sent: number };
    const w = window as unknown as { first?: Stats & { ms: number; records: number }; hideAt?: number; outbox: { stats(): Stats } };
    addEventListener('pagehide', () => (w.hideAt = performance.now()), { capture: true });
    const original = window.fetch.bind(window);
    window.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
      if (init?.keepalive && w.hideAt !== undefined && !w.first) {
        const records = (JSON.parse(String(init.body)) as { batch: unknown[] }).batch.length;
        const { queued, inflight, sent } = w.outbox.stats();
        w.first = { queued, inflight, sent, ms: performance.now() - w.hideAt, records };
      }
      return original(input, init);
    };
  });
}

test('the unload path issues its first request at once: the rest is still queued when it goes', async ({ page }) => {
  const errors: string[] = [];
  watchErrors(page, errors);
  await page.goto(`${collector.url}/fixtures/blank.html`);
  await watchFirstUnloadRequest(page); // first: its pagehide listener must run before Outbox's
  await boot(page, { ...QUIET, maxBatchBytes: 16 * 1024, maxEventBytes: 1024 });
  await trackPadded(page, 'first', 2000);
  // A synthetic pagehide runs the same handlers and lets the page report what it saw.
  await page.evaluate(() => dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false })));
  const first = await page.evaluate(
    () => (window as unknown as { first?: { queued: number; inflight: number; sent: number; ms: number; records: number } }).first,
  );
  console.log(`[unload-first] first request after ${first?.ms.toFixed(1)} ms, ${first?.records} record(s) in it, ${first?.queued} still queued`);
  expect(first).toBeDefined();
  expect(first!.records).toBeGreaterThan(0);
  // Normal sends of full batches may be under way; everything else is still in the queue, not drained before.
  expect(first!.queued).toBeGreaterThan(0);
  expect(first!.queued + first!.records + first!.inflight + first!.sent).toBe(2000);
  expect(errors).toEqual([]);
});

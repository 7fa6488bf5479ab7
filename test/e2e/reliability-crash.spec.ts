// A renderer crash with no service worker (Chromium: CDP Page.crash): no pagehide, so nothing marks the records a
// request had in flight. The page notes each send in localStorage before it starts and removes the note once it
// knows the send's fate (src/platform/inflight.ts); the next load resends noted records only after the sent-grace
// period, and records whose send the page saw fail at once.
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { BUNDLE, boot, delivered, staticDirs, storedCount, track } from './fixtures/durable-helpers';

let collector: Collector;

test.beforeAll(async () => {
  collector = await startCollector({ staticDirs });
});
test.afterAll(() => collector.close());
test.beforeEach(({ browserName }) => {
  test.skip(browserName !== 'chromium', 'needs CDP Page.crash to crash the renderer');
  collector.reset();
});

/** The sent-grace period of both loads: long against the time a next load takes to resend at once (about 1 s). */
const GRACE_MS = 8000;
/** Retries far apart, so no retry is in flight at the crash of the second test. */
const options = { flushAt: 30, timing: { sentGraceMs: GRACE_MS }, retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 } };

/** A tab of its own (its own renderer) with Outbox booted on the blank fixture; page errors collected. */
async function victimTab(context: BrowserContext, errors: string[]): Promise<Page> {
  const victim = await context.newPage();
  victim.on('pageerror', (e) => errors.push(e.message));
  await victim.goto(`${collector.url}/fixtures/blank.html`);
  expect(await victim.evaluate(() => navigator.serviceWorker?.controller ?? null)).toBeNull();
  await boot(victim, options);
  return victim;
}

/** Waits until every record `page` holds is committed to IndexedDB, then crashes its renderer and closes the tab. */
async function crash(context: BrowserContext, page: Page): Promise<void> {
  await expect.poll(() => page.evaluate(async (bundle) => {
    const { durableStorageOf } = await import(bundle);
    return durableStorageOf((window as unknown as { outbox: unknown }).outbox).volatileCount() as number;
  }, BUNDLE)).toBe(0);
  const cdp = await context.newCDPSession(page);
  const crashed = new Promise((r) => page.once('crash', r));
  cdp.send('Page.crash').catch(() => undefined); // never answers: the renderer is gone
  await crashed;
  await page.close();
}

/** This document's in-flight notes (localStorage `outbox:inflight:*`). */
const notes = (page: Page) => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('outbox:inflight:')).length);

test('no worker: records in flight at a crash are resent by the next load only after the grace period', async ({ page, context }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const victim = await victimTab(context, errors);
  collector.setFault({ mode: 'slow', delayMs: 15_000, times: 1 }); // stored at once, answered 15 s later
  await track(victim, 'crash-inflight', 30);
  await expect.poll(() => collector.fault().mode).toBe('none'); // the request is at the collector, its answer held
  expect(await notes(victim)).toBe(1);
  const firstAt = collector.arrivals().values().next().value![0]!.at;
  await crash(context, victim);
  await page.goto(`${collector.url}/fixtures/blank.html`);
  await boot(page, options); // the next load: the crashed tab's lock is gone, its 30 records are found
  const bootedAt = Date.now();
  // Every id arrives a second time (nobody in the browser saw the first answer), but only once the grace period
  // counted from the crashed send is over. Before the note, the next load resent them at once: about 1 s after boot.
  await expect.poll(() => [...collector.arrivals().values()].filter((a) => a.length === 2).length, { timeout: GRACE_MS + 20_000 }).toBe(30);
  const again = Math.min(...[...collector.arrivals().values()].map((a) => a[1]!.at));
  console.log(`[crash] resent ${again - firstAt} ms after the crashed send, ${again - bootedAt} ms after the next load booted (grace ${GRACE_MS} ms)`);
  // The note is written before fetch() is called, so the grace may start a little before the first arrival.
  expect(again - firstAt).toBeGreaterThanOrEqual(GRACE_MS - 1000);
  expect(delivered(collector, 'crash-inflight').unique).toBe(30);
  await expect.poll(() => storedCount(page)).toBe(0);
  expect(await notes(page)).toBe(0); // the crashed document's note was removed once stale
  expect(errors).toEqual([]);
});

test('no worker: records whose send failed before a crash are resent by the next load at once', async ({ page, context }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const victim = await victimTab(context, errors);
  collector.setFault({ mode: 'down' }); // every request fails on the network until the fault is cleared
  await track(victim, 'crash-failed', 30);
  // The send failed (the page knows: its note is gone) and the records wait for a retry, none in flight.
  await expect.poll(() => collector.requests().length).toBeGreaterThan(0);
  await expect
    .poll(() => victim.evaluate(() => (window as unknown as { outbox: { stats(): { queued: number; inflight: number } } }).outbox.stats()))
    .toMatchObject({ queued: 30, inflight: 0 });
  expect(await notes(victim)).toBe(0);
  await crash(context, victim);
  collector.setFault({ mode: 'none' });
  await page.goto(`${collector.url}/fixtures/blank.html`);
  await boot(page, options);
  const bootedAt = Date.now();
  await expect.poll(() => delivered(collector, 'crash-failed').unique, { timeout: GRACE_MS - 2000, intervals: [50, 100, 250] }).toBe(30);
  console.log(`[crash] failed sends resent ${Date.now() - bootedAt} ms after the next load booted (grace ${GRACE_MS} ms)`);
  const arrivals = [...collector.arrivals().values()].map((a) => a.length);
  expect({ ids: arrivals.length, extra: arrivals.reduce((n, k) => n + k - 1, 0) }).toEqual({ ids: 30, extra: 0 });
  await expect.poll(() => storedCount(page)).toBe(0);
  expect(errors).toEqual([]);
});

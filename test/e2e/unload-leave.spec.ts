import { expect, test, type Page } from '@playwright/test';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { authenticatedRequests, beaconRequests, boot, delivered, expectDelivered, staticDirs, storedCount, trackPadded, watchErrors } from './fixtures/unload-helpers';
import { readSpilled, readStoredSegments, sentMarks } from './fixtures/page';

// Leaving the page right after tracking: the unload path (keepalive fetch, fetchLater, sendBeacon) must carry what
// fits in the 64 KiB budget, and IndexedDB must keep the rest for the next load of the same origin.
// Unload sends carry the client's own headers (JSON + Authorization), so they are counted as authenticated
// requests; beacons go only to a relay: the 2000-event cases configure `relay` (the collector's v3 mode accepts
// beacons as a relay does) so that what overflows keepalive and fetchLater still leaves by beacon.

let collector: Collector;

test.beforeAll(async () => {
  collector = await startCollector({ staticDirs });
});
test.afterAll(() => collector.close());
test.beforeEach(() => collector.reset());

/** Nothing is sent by itself: only the unload path can deliver. */
const QUIET = { flushAt: 10_000, flushInterval: 3600, maxBatchBytes: 4 << 20 };

async function open(page: Page, errors: string[], options: Record<string, unknown>): Promise<void> {
  watchErrors(page, errors);
  await page.goto(`${collector.url}/fixtures/blank.html`);
  await boot(page, options);
}

for (const [name, options] of [
  ['default options', {}],
  ['nothing flushes by itself', QUIET],
] as const) {
  test(`200 events of ~300 B, then page.goto(about:blank): 200/200 within 5 s — ${name}`, async ({ page }) => {
    // Firefox, default options: 2 of 10 runs fell short before the unload send went first and records left the queue
    // only when handed to the network; 10 of 10 since (2026-12-02); 0/200 again in 1 of 10 on the code of 2026-12-07
    // before the beforeunload send and 2 of 15 after (not diagnosed: platform-facts §12). Nothing flushing by itself: 0/200 in 1 of 8 runs
    // and 1 of 2 (2026-12-02); 15 of 15 on 2026-12-07 before Outbox sent at beforeunload too, and since, 0
    // duplicates (platform-facts §12).
    // The 2 of 15 were measured under load 11–18; on a quiet machine (load < 2, 2026-12-07 18:15) it passed 12 of 12,
    // and 20 of 20 under load 15–18 with a pinned CPU hog (2026-12-07 19:51–20:10), so it is no longer a fixme. The
    // likely way to lose: the burst goes in one normal request of 59 KB, over the 48 KiB a normal send may hold of
    // the keepalive budget, so without keepalive; it reached the collector 4–85 ms after page.goto began in 8 of 10
    // of those runs, and one the navigation cancels first waits for the next load (platform-facts §12).
    const errors: string[] = [];
    await open(page, errors, options);
    await trackPadded(page, 'goto', 200);
    await page.goto('about:blank');
    await expectDelivered(collector, 'goto', 200, 5_000);
    console.log(`[unload] goto, ${name}: 200/200, duplicates ${delivered(collector, 'goto').duplicates}`);
    if (options === QUIET) expect(authenticatedRequests(collector)).toBeGreaterThan(0);
    expect(beaconRequests(collector)).toBe(0); // no relay: never a beacon Langfuse would answer 401
    expect(errors).toEqual([]);
  });
}

test('200 events, then page.close({ runBeforeUnload: true }): 200/200', async ({ browser }) => {
  // Firefox lost the unload send made in pagehide on this close: 0/200, no request at all, in 2 of 13 runs, 1 of 10
  // (2026-12-02) and 1 of 15 (2026-12-07); 0/200 in no run, 0 duplicates, since Outbox spills and sends at
  // beforeunload while records are queued (platform-facts §12).
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  await open(page, errors, QUIET);
  await trackPadded(page, 'close', 200);
  await page.close({ runBeforeUnload: true });
  await expectDelivered(collector, 'close', 200, 5_000);
  console.log(`[unload] close: 200/200, duplicates ${delivered(collector, 'close').duplicates}`);
  expect(authenticatedRequests(collector)).toBeGreaterThan(0);
  expect(errors).toEqual([]);
  await context.close();
});

test('200 events, then context.close(): 200/200', async ({ browser, browserName }) => {
  // Firefox: 0/200 in 1 of 2 suite runs before the unload rework; 10 of 10 since (2026-12-02).
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  await open(page, errors, QUIET);
  await trackPadded(page, 'ctx', 200);
  await context.close();
  await expectDelivered(collector, 'ctx', 200, 5_000);
  expect(authenticatedRequests(collector)).toBeGreaterThan(0);
  expect(errors).toEqual([]);
});

for (const [name, options] of [
  ['default options', {}],
  ['nothing flushes by itself', QUIET],
] as const) {
  test(`2000 events (~600 KB, far over the budget), then navigate away: the unload path carries some now, the next load the rest — ${name}`, async ({ page }) => {
    // Firefox, nothing flushing by itself: 0 of 2000 after leaving, no unload request, in 5 of 5 runs (2026-11);
    // 221–222 in 15 of 15 on 2026-12-07, and 222 or 443 (a second request at pagehide) since the send at
    // beforeunload. Duplicates (measured, toward a relay that keeps one per id): platform-facts §12.
    const errors: string[] = [];
    const withRelay = { ...options, relay: collector.endpoint };
    await open(page, errors, withRelay);
    await trackPadded(page, 'big', 2000);
    // The burst is one write-ahead segment: wait until IndexedDB has committed it (see the fixme test below) — or,
    // with default options, until the normal path already carried it (a burst goes in a few requests of 500).
    await expect.poll(async () => (await storedCount(page)) + delivered(collector, 'big').unique, { timeout: 10_000 }).toBeGreaterThan(0);
    await page.goto('about:blank');
    // What the unload path (and any normal send already under way) carried arrives without another load.
    await page.waitForTimeout(1500);
    const now = delivered(collector, 'big').unique;
    const viaUnload = options === QUIET ? authenticatedRequests(collector) + beaconRequests(collector) : beaconRequests(collector);
    // Before the next load's client starts: every record the unload path delivered and that is still stored must be
    // marked as sent or answered, or that load resends it at once. Firefox left one keepalive's 221–222 unmarked in
    // 1 of 10 and 2 of 15 runs while the mark was an IndexedDB rewrite of the segment, and in 1 of 4 suite runs
    // under load (2026-12-07) when a keepalive answered between beforeunload and pagehide had its note dropped
    // before its removal committed (platform-facts §12). (A normal send under way as the page left, with default
    // options, is not marked: its records may arrive twice.)
    await page.goto(`${collector.url}/fixtures/blank.html`);
    const marked = await sentMarks(page);
    const stored = new Set((await page.evaluate(readStoredSegments)).flatMap((s) => s.events.map((e) => e.id)));
    // The pagehide spill (localStorage) holds records too; those it keeps with `sentAt` are marked.
    for (const e of await page.evaluate(readSpilled)) (stored.add(e.id), e.sentAt !== undefined && marked.add(e.id));
    const unmarked = collector.events().filter((e) => (e.body as { tag?: string })?.tag === 'big' && stored.has(e.id) && !marked.has(e.id)).length;
    // The next load of the same origin recovers what was left in IndexedDB.
    await open(page, errors, withRelay);
    await expectDelivered(collector, 'big', 2000, 30_000);
    const total = delivered(collector, 'big');
    test.info().annotations.push({
      type: 'measured',
      description: `${name}: ${now}/2000 arrived after leaving (${viaUnload} unload request(s)), 2000/2000 after the next load, ${total.duplicates} duplicate(s) at the collector`,
    });
    console.log(`[unload] ${name}: ${now}/2000 after leaving, ${viaUnload} unload request(s), ${unmarked} of them unmarked; total 2000, duplicates ${total.duplicates}`);
    expect(now).toBeGreaterThan(0);
    if (options === QUIET) expect(unmarked).toBe(0);
    if (options === QUIET) expect(viaUnload).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });
}

// Measured 2026-11-26: when the page navigated within milliseconds of a 2000-event (~600 KB) burst, the
// write-ahead IndexedDB transaction for that burst was not yet committed in 2 of 8 runs and the document's teardown
// aborted it: 1558 events lost. The durable queue now spills what is uncommitted at pagehide to localStorage
// (src/platform/spill.ts), and the next load adopts it.
// Firefox: 1 778 of 2 000 lost (the 222 of the unload keepalive arrived, nothing was spilled) in 2 of 6 runs on
// 2026-12-07, and once in a full npm test: its pagehide listener was cut short before the spill was written. Outbox
// now spills at beforeunload too, which Firefox waits for: 6 of 6, then every run since (platform-facts §12).
test('2000 events, then navigate away at once (no wait for the write-ahead commit): 2000/2000 in total', async ({ page }) => {
  const errors: string[] = [];
  await open(page, errors, QUIET);
  await trackPadded(page, 'now', 2000);
  await page.goto('about:blank');
  await page.waitForTimeout(1500);
  await open(page, errors, QUIET);
  await expectDelivered(collector, 'now', 2000, 30_000);
  expect(errors).toEqual([]);
});

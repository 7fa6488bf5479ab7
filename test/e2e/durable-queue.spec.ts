import { expect, test, type Page } from '@playwright/test';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { boot, delivered, duplicateIds, expectDelivered, markedIds, storedCount, staticDirs, track } from './fixtures/durable-helpers';

let collector: Collector;

test.beforeAll(async () => {
  collector = await startCollector({ staticDirs });
});
test.afterAll(() => collector.close());
test.beforeEach(() => collector.reset());

/** Page errors (uncaught exceptions, unhandled rejections) of every page of the context. */
function watchErrors(pages: Page[]): string[] {
  const errors: string[] = [];
  for (const p of pages) p.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

async function open(page: Page, options: Record<string, unknown> = {}): Promise<void> {
  await page.goto(`${collector.url}/fixtures/blank.html`);
  await boot(page, options);
}

test('reload while batches are in flight: all 500 stored at the collector, none lost', async ({ page }) => {
  const errors = watchErrors([page]);
  collector.setFault({ mode: 'slow', delayMs: 400 }); // requests are stored, answers held: reload mid-flight
  await open(page, { maxBatchEvents: 50 }); // several batches, so several are in flight at the reload
  await track(page, 'reload', 500);
  await expect.poll(() => storedCount(page)).toBe(500);
  await collector.waitFor((c) => c.requests().length >= 2);
  await page.reload();
  collector.setFault({ mode: 'none' });
  // Where the reload's unload send got its sent-marks committed (Firefox does), those events wait out the
  // sent-grace period before the store may empty: inject a short one.
  await boot(page, GRACE);
  await expectDelivered(collector, 'reload', 500);
  await expect.poll(() => storedCount(page)).toBe(0);
  expect(errors).toEqual([]);
});

/** The grace before a beacon's events are resent, injected (60 s by default) so no test waits it out. */
const GRACE = { timing: { sentGraceMs: 1500 } };

test('offline → track 500 → close → online → a new page of the origin delivers all 500 exactly once', async ({ context }) => {
  // Firefox: 467–469 unmarked duplicates in 1 of 3, 2 of 2 and 3 of 5 runs: its offline emulation let the unload
  // keepalive made at the close reach the collector while still offline (arrived 725 ms after it, offline until
  // 1 682 ms), and the next load resent what Outbox had not marked. Offline, Outbox now makes no unload request at
  // all: 10 of 10 (platform-facts §12).
  // At close the unload path beacons what it can; a beacon's fate is unknown, so those events are resent only after
  // the sent-grace period (injected here: 1.5 s).
  const first = await context.newPage();
  const errors = watchErrors([first]);
  await open(first);
  await context.setOffline(true);
  await track(first, 'offline', 500);
  await expect.poll(() => storedCount(first)).toBe(500);
  await first.close();
  await context.setOffline(false);
  // (Some of what the unload path beaconed at close may arrive now: setOffline does not stop queued beacons.)
  const second = await context.newPage();
  errors.push(...watchErrors([second]));
  await second.goto(`${collector.url}/fixtures/blank.html`);
  const beaconed = new Set(await markedIds(second));
  await boot(second, GRACE);
  await expectDelivered(collector, 'offline', 500, 20_000);
  await expect.poll(() => storedCount(second)).toBe(0);
  // Exactly once, except where a beacon's fate was unknown: only those may arrive twice (at-least-once).
  expect(duplicateIds(collector).filter((id) => !beaconed.has(id))).toEqual([]);
  expect(errors).toEqual([]);
});

test('renderer crash after 300 events were persisted: the next page load delivers all 300', async ({ context, browserName }) => {
  test.skip(browserName === 'firefox', 'chrome://crash is Chromium\'s; Firefox has no crash URL a test can open');
  const first = await context.newPage();
  await open(first);
  collector.setFault({ mode: 'down' }); // nothing can be delivered before the crash
  await track(first, 'crash', 300);
  await expect.poll(() => storedCount(first)).toBe(300);
  let crashed = false;
  first.on('crash', () => (crashed = true));
  // A debug URL crashes the current renderer: no pagehide, no unload, no last flush. (CDP Page.crash took the
  // whole headless browser down with it in this build.) The goto itself fails with net::ERR_ABORTED.
  await first.goto('chrome://crash').catch(() => undefined);
  await expect.poll(() => crashed).toBe(true);
  collector.setFault({ mode: 'none' });
  expect(delivered(collector, 'crash').unique).toBe(0);
  const second = await context.newPage();
  const errors = watchErrors([second]);
  await open(second);
  await expectDelivered(collector, 'crash', 300);
  expect(delivered(collector, 'crash').duplicates).toBe(0);
  expect(errors).toEqual([]);
});

test('three tabs track 200 each at once, two close: 600 unique, 0 duplicates', async ({ context }) => {
  const tabs = [await context.newPage(), await context.newPage(), await context.newPage()];
  const errors = watchErrors(tabs);
  await Promise.all(tabs.map((t) => open(t)));
  collector.setFault({ mode: 'slow', delayMs: 150 });
  await Promise.all(tabs.map((t, n) => track(t, `tab${n}`, 200)));
  for (let n = 0; n < 3; n++) await expectDelivered(collector, `tab${n}`, 200);
  // Acknowledged in every tab (the collector stores before it answers); now two tabs go, and the third one's
  // recovery must find nothing to resend.
  for (const t of tabs) {
    await expect
      .poll(() => t.evaluate(() => (window as unknown as { outbox: { stats(): { sent: number } } }).outbox.stats().sent))
      .toBe(200);
  }
  await tabs[0]!.close();
  await tabs[1]!.close();
  const survivor = tabs[2]!;
  await survivor.evaluate(() => window.dispatchEvent(new Event('online'))); // another recovery pass
  await expect.poll(() => storedCount(survivor)).toBe(0);
  const total = collector.events().length;
  expect(total).toBe(600);
  expect(collector.stats().duplicates).toBe(0);
  expect(errors).toEqual([]);
});

test('tabs closed with unsent events: the surviving tab sends them, each once', async ({ context }) => {
  // What the closing tabs beaconed is resent after the sent-grace period (injected: 1.5 s).
  const tabs = [await context.newPage(), await context.newPage(), await context.newPage()];
  const errors = watchErrors(tabs);
  await Promise.all(tabs.map((t) => open(t, GRACE)));
  collector.setFault({ mode: 'down' }); // nothing gets through until the two tabs are gone
  await Promise.all(tabs.map((t, n) => track(t, `tab${n}`, 200)));
  for (const t of tabs) await expect.poll(() => storedCount(t)).toBe(600);
  await tabs[0]!.close();
  await tabs[1]!.close();
  const survivor = tabs[2]!;
  const beaconed = new Set(await markedIds(survivor));
  collector.setFault({ mode: 'none' });
  await survivor.evaluate(() => window.dispatchEvent(new Event('online')));
  for (let n = 0; n < 3; n++) await expectDelivered(collector, `tab${n}`, 200, 20_000);
  await expect.poll(() => storedCount(survivor)).toBe(0);
  expect(collector.events().length).toBe(600);
  // Each once, except what the closing tabs beaconed (fate unknown): only those may arrive twice.
  expect(duplicateIds(collector).filter((id) => !beaconed.has(id))).toEqual([]);
  expect(errors).toEqual([]);
});

test('indexedDB.open throwing: events are delivered from memory, the error is reported, the page sees nothing', async ({ page }) => {
  const errors = watchErrors([page]);
  await page.addInitScript(() => {
    IDBFactory.prototype.open = () => {
      throw new DOMException('IndexedDB disabled by the test', 'SecurityError');
    };
  });
  await open(page);
  await track(page, 'noidb', 120);
  await expectDelivered(collector, 'noidb', 120);
  // The storage reports its failure from its own promise chain, which may settle after the delivery from memory
  // (a fresh-clone run read the list too early): wait for the report rather than reading it once.
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { outboxErrors: string[] }).outboxErrors.some((m) => /storage .*failed.*IndexedDB disabled by the test/.test(m))), { timeout: 10_000 })
    .toBe(true);
  // The collector stores a batch before it answers: wait for the page to have read the answer. As long as the
  // delivery wait (30 s): on a loaded machine a request can time out after the collector stored it, and its resend
  // (a duplicate the collector drops) waits out a backoff first — the 10 s default once failed in a fresh-clone run.
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { outbox: { stats(): unknown } }).outbox.stats()), { timeout: 30_000 })
    .toMatchObject({ sent: 120, queued: 0 });
  expect(errors).toEqual([]);
});

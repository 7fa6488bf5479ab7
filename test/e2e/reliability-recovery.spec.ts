import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { boot, delivered, markedIds, staticDirs, storedCount, track } from './fixtures/durable-helpers';

// Prompt recovery: what a page could not deliver because it was offline is sent by the next load of the origin at
// once, not after the sent-grace period (60 s by default, not injected here on purpose): the unload path does not
// mark records as sent while the collector looks unreachable.

let collector: Collector;

test.beforeAll(async () => {
  collector = await startCollector({ staticDirs });
});
test.afterAll(() => collector.close());
test.beforeEach(() => collector.reset());

function watchErrors(page: Page, into: string[]): void {
  page.on('pageerror', (e) => into.push(e.message));
}

async function offlineThenReopen(context: BrowserContext, tag: string, count: number, leave: (p: Page) => Promise<void>) {
  const errors: string[] = [];
  const keeper = await context.newPage(); // keeps the context open while `first` goes (a blank tab, no Outbox)
  const first = await context.newPage();
  watchErrors(first, errors);
  await first.goto(`${collector.url}/fixtures/blank.html`);
  await boot(first);
  await context.setOffline(true);
  await track(first, tag, count);
  await expect.poll(() => storedCount(first)).toBe(count);
  await first.waitForTimeout(300); // "after a moment": normal sends have failed on the network by now
  await leave(first);
  await expect.poll(() => first.isClosed() || first.url() === 'about:blank').toBe(true);
  await context.setOffline(false);
  const second = await context.newPage();
  watchErrors(second, errors);
  await second.goto(`${collector.url}/fixtures/blank.html`);
  const marked = (await markedIds(second)).length;
  const opened = Date.now();
  await boot(second); // no new record is tracked: recovery alone must send
  await expect.poll(() => delivered(collector, tag).unique, { timeout: 5_000, intervals: [50, 100, 250] }).toBe(count);
  const ms = Date.now() - opened;
  console.log(`[recovery] ${tag}: ${count}/${count} within ${ms} ms of reopening; ${marked} record(s) had been marked sent`);
  expect(marked).toBe(0);
  expect(delivered(collector, tag).duplicates).toBe(0);
  await expect.poll(() => storedCount(second)).toBe(0);
  expect(errors).toEqual([]);
  await keeper.close();
}

test('offline → track 200 → close after a moment → online → reopen: 200/200 within 5 s, without a new record', async ({ context }) => {
  await offlineThenReopen(context, 'off200', 200, (p) => p.close());
});

test('offline → track 300 → close (with beforeunload) → online → reopen: 300/300 within 5 s', async ({ context }) => {
  await offlineThenReopen(context, 'off300', 300, (p) => p.close({ runBeforeUnload: true }));
});

test('offline → track 300 → navigate away → online → the next page of the origin sends all 300 within 5 s', async ({ context }) => {
  await offlineThenReopen(context, 'offnav', 300, (p) => p.goto('about:blank').then(() => undefined));
});

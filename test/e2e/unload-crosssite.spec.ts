import { expect, test, type Page } from '@playwright/test';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { boot, delivered, staticDirs, trackPadded, authenticatedRequests, watchErrors } from './fixtures/unload-helpers';

// Leaving for another site right after tracking: the page lives on 127.0.0.1, the next page on localhost (another
// host, so another site, and in Firefox another content process). Only the unload path can deliver (nothing
// flushes by itself), and it must carry all 200 events of each round before the next page is long loaded —
// without waiting for a later load of the first origin. Three ways to leave: page.goto, a link click, location.href.

let collector: Collector;
/** The other site: a second collector whose own ingestion is never used, serving the same blank page. */
let other: Collector;
let away = '';

test.beforeAll(async () => {
  collector = await startCollector({ staticDirs });
  other = await startCollector({ staticDirs });
  away = `http://localhost:${other.port}/fixtures/blank.html`;
});
test.afterAll(async () => {
  await collector.close();
  await other.close();
});
test.beforeEach(() => collector.reset());

/** Nothing is sent by itself: only the unload path can deliver. */
const QUIET = { flushAt: 10_000, flushInterval: 3600, maxBatchBytes: 4 << 20 };
const ROUNDS = 4;
const EVENTS = 200;
/** How long a round waits for its 200 events after the next page has loaded. */
const ARRIVAL_MS = 3_000;

const leave: Record<string, (page: Page) => Promise<unknown>> = {
  'page.goto': (page) => page.goto(away),
  'a link click': async (page) => {
    await page.evaluate((href) => {
      const a = document.createElement('a');
      a.id = 'away';
      a.href = href;
      a.textContent = 'away';
      document.body.append(a);
    }, away);
    await Promise.all([page.waitForURL(away), page.click('#away')]);
  },
  'location.href': async (page) => {
    await Promise.all([page.waitForURL(away), page.evaluate((href) => void (location.href = href), away)]);
  },
};

for (const [how, go] of Object.entries(leave)) {
  test(`${ROUNDS} rounds × ${EVENTS} events, then a cross-site navigation by ${how}: ${EVENTS}/${EVENTS} each round`, async ({ page }) => {
    // Firefox ESR 153.8 cut the pagehide unload send short on these navigations: rounds of 0/200 in 5 of 6 runs
    // (2026-11/12-02) and in 12 of 45 (2026-12-07, 15 per way), with 200–600 duplicates in 24 of the 45 runs. Since
    // the send comes first in pagehide and a beforeunload listener (only while records are queued) sends before it:
    // every round 200/200, 0 duplicates, 10 of 10 runs each way (platform-facts §12).
    const errors: string[] = [];
    watchErrors(page, errors);
    const arrived: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const tag = `cross-${round}`;
      await page.goto(`${collector.url}/fixtures/blank.html`);
      await boot(page, QUIET);
      await trackPadded(page, tag, EVENTS);
      await go(page);
      expect(page.url()).toBe(away);
      await expect
        .poll(() => delivered(collector, tag).unique, { timeout: ARRIVAL_MS, intervals: [50, 100, 250] })
        .toBe(EVENTS)
        .catch(() => undefined); // counted below, so every round is measured
      arrived.push(delivered(collector, tag).unique);
    }
    const duplicates = collector.stats().duplicates;
    const summary = `${how}: arrived ${arrived.join(', ')} of ${EVENTS} per round; ${authenticatedRequests(collector)} unload request(s); ${duplicates} duplicate(s)`;
    test.info().annotations.push({ type: 'measured', description: summary });
    console.log(`[crosssite] ${summary}`);
    expect(arrived).toEqual(Array(ROUNDS).fill(EVENTS));
    // Duplicates are measured, not asserted: a round whose sent-mark did not commit before the teardown is resent
    // by the next round's load (at-least-once; the collector dedups by id). Chromium under a load average of 20
    // had 200 in 1 of 3 runs (link click).
    expect(errors).toEqual([]);
  });
}

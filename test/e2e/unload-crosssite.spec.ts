import { expect, test, type Page } from '@playwright/test';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { boot, delivered, expectDelivered, staticDirs, trackPadded, authenticatedRequests, watchErrors } from './fixtures/unload-helpers';
import { readSpilled } from './fixtures/page';

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
    // a beforeunload listener (only while records are queued) spills and sends before pagehide: every round
    // 200/200, 0 duplicates, in every run (platform-facts §12).
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

/**
 * In the page, before Outbox boots: a readwrite transaction on Outbox's store kept running (a request chain), so
 * Outbox's write-ahead append waits behind it and is still uncommitted when the page leaves — what happened by
 * chance, under load, in the runs with duplicates above. The document's end aborts both.
 */
function holdWriteAhead(): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const open = indexedDB.open('outbox');
    open.onupgradeneeded = () => open.result.createObjectStore('segments');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const store = open.result.transaction('segments', 'readwrite').objectStore('segments');
      const spin = () => void (store.get('held').onsuccess = spin);
      spin();
      resolve();
    };
  });
}

/** The spilled records in the page's localStorage, and how many of them carry a sent mark. */
async function spilledRecords(page: Page): Promise<{ records: number; marked: number }> {
  const spilled = await page.evaluate(readSpilled);
  return { records: spilled.length, marked: spilled.filter((e) => typeof e.sentAt === 'number').length };
}

for (const keepalive of ['arrives', 'is lost'] as const) {
  test(`the write-ahead commit held back, a cross-site navigation, the keepalive ${keepalive}: spilled as sent, resent only after the grace`, async ({ page }) => {
    // Before the spill kept the keepalive's sent mark, the next load sent a spilled round again at once: 200
    // duplicates (Firefox, 1 of 16 runs of the cases above under load; platform-facts §12). Now the spilled records
    // wait out the sent-grace, as records marked sent in IndexedDB do; a keepalive lost costs only that wait.
    const GRACE_MS = 8_000;
    const options = { ...QUIET, timing: { sentGraceMs: GRACE_MS } };
    const errors: string[] = [];
    watchErrors(page, errors);
    await page.goto(`${collector.url}/fixtures/blank.html`);
    await page.evaluate(holdWriteAhead);
    await boot(page, options);
    // The keepalive's answer is never seen by the page: held back (stored at once, answered 5 s later), or no
    // answer at all (down: the connection closed before the request is read — until the next load, since a
    // browser retries a request whose connection was reset). An answer seen would settle the records instead.
    collector.setFault(keepalive === 'arrives' ? { mode: 'slow', delayMs: 5_000 } : { mode: 'down' });
    await trackPadded(page, 'held', EVENTS);
    await page.goto(away);
    const left = Date.now();
    if (keepalive === 'arrives') await expectDelivered(collector, 'held', EVENTS, ARRIVAL_MS);
    else await page.waitForTimeout(1000);
    const afterLeaving = delivered(collector, 'held').unique;
    collector.setFault({ mode: 'none' });

    await page.goto(`${collector.url}/fixtures/blank.html`);
    const spilled = await spilledRecords(page);
    await boot(page, options);
    await page.waitForTimeout(1000);
    const withinGrace = { unique: delivered(collector, 'held').unique, arrivals: arrivalsOf(collector, 'held') };
    const spilledWithinGrace = await spilledRecords(page);
    const checkedAt = Date.now() - left;

    // After the grace: the spill is adopted and sent, then released.
    await expect.poll(() => spilledRecords(page), { timeout: GRACE_MS + 10_000 }).toEqual({ records: 0, marked: 0 });
    await expectDelivered(collector, 'held', EVENTS, 10_000);
    await expect.poll(() => arrivalsOf(collector, 'held'), { timeout: 10_000 }).toBe(keepalive === 'arrives' ? 2 * EVENTS : EVENTS);
    const duplicates = arrivalsOf(collector, 'held') - EVENTS;
    const summary = `keepalive ${keepalive}: ${afterLeaving}/${EVENTS} after leaving; spilled ${spilled.records} (${spilled.marked} marked sent); ${withinGrace.unique} delivered, ${withinGrace.arrivals} arrivals ${checkedAt} ms after leaving (grace ${GRACE_MS} ms); ${EVENTS}/${EVENTS} and ${duplicates} duplicate(s) after the grace`;
    test.info().annotations.push({ type: 'measured', description: summary });
    console.log(`[crosssite] held write-ahead, ${summary}`);

    expect(spilled.records).toBe(EVENTS); // the commit was held: only the spill kept them
    expect(checkedAt).toBeLessThan(GRACE_MS); // else the checks within the grace say nothing
    if (keepalive === 'arrives' || spilled.marked > 0) {
      expect(spilled.marked).toBe(EVENTS);
      expect(spilledWithinGrace).toEqual({ records: EVENTS, marked: EVENTS }); // withheld, not lost
      expect(withinGrace).toEqual(keepalive === 'arrives' ? { unique: EVENTS, arrivals: EVENTS } : { unique: 0, arrivals: 0 }); // no resend at once
    }
    // Lost: when the page still saw the failure and no pagehide came within its 250 ms hold (under load, 1 of 10
    // runs in Firefox), it queued the records again, unmarked, and the next load sent them at once: no wait.
    if (keepalive === 'is lost') expect(afterLeaving).toBe(0);
    // After the grace the next load cannot tell a keepalive that arrived from one that did not: it sends the records
    // again, once (a relay drops them by id; Langfuse's OTLP path would store a second row).
    expect(duplicates).toBe(keepalive === 'arrives' ? EVENTS : 0);
    expect(errors).toEqual([]);
  });
}

/** Every arrival at the collector of records tagged `tag` (duplicates included). */
function arrivalsOf(c: Collector, tag: string): number {
  const arrivals = c.arrivals();
  let n = 0;
  for (const e of c.events()) if ((e.body as { tag?: string })?.tag === tag) n += arrivals.get(e.id)?.length ?? 1;
  return n;
}

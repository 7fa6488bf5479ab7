// The service worker (dist/outbox-sw.js, the prebuilt worker over `outbox/sw`) in real Chromium against the real
// collector: hand-off (202 + Outbox-Queued), replay by Background Sync, replay without SyncManager, expiry.
import { expect, test } from '@playwright/test';
import { FIREFOX_SW_IDLE_MS } from '../../playwright.config';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import {
  BUNDLE,
  boot,
  controlledPage,
  delivered,
  dispatchSync,
  handOffWhileDown,
  pageStoredEvents,
  settle,
  staticDirs,
  swMessages,
  swQueued,
  trackAndFlush,
} from './fixtures/sw-helpers';

let collector: Collector;
let errors: string[];

test.beforeAll(async () => {
  collector = await startCollector({ staticDirs });
});
test.afterAll(() => collector.close());
test.beforeEach(({ page }) => {
  collector.reset();
  errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
});
test.afterEach(() => expect(errors).toEqual([]));

test('offline: the worker takes all 300 events, the page keeps none, and they arrive after the page is gone', async ({ page, context, browserName }) => {
  test.skip(browserName === 'firefox', "Firefox's offline emulation does not reach the worker's fetch, and no sync event replays after it");
  await controlledPage(page, collector, '/outbox-sw.js?endpoint=/api/public/ingestion&queue=offline');
  await boot(page); // IndexedDB storage (the browser default): the hand-off must empty it
  await context.setOffline(true);
  const stats = await trackAndFlush(page, 'offline', 300);
  expect(stats).toMatchObject({ tracked: 300, handedOff: 300, sent: 0, queued: 0, inflight: 0 });
  await expect.poll(() => pageStoredEvents(page)).toBe(0); // the durable queue deletes acknowledged segments in its next write
  expect(await swQueued(page, 'offline')).toBe(6); // 300 events at flushAt 50
  expect(collector.stats().requests).toBe(0);
  expect(await page.evaluate(() => (window as unknown as { outboxDrops: unknown[] }).outboxDrops)).toEqual([]);

  await page.close();
  await context.setOffline(false); // Chrome fires the pending sync itself; no page is open
  await expect.poll(() => delivered(collector, 'offline').unique, { timeout: 30_000 }).toBe(300);
  expect(delivered(collector, 'offline')).toMatchObject({ unique: 300, duplicates: 0 });
  expect(delivered(collector, 'offline').indexes).toEqual([...Array(300).keys()]);
});

test('deterministic replay: batches queued while the collector is down arrive once on a CDP sync event', async ({ page, context, browserName }) => {
  test.skip(browserName === 'firefox', 'needs CDP ServiceWorker.dispatchSyncEvent; Firefox has no CDP and no SyncManager');
  collector.setFault({ mode: 'down' });
  await controlledPage(page, collector, '/outbox-sw.js?queue=cdp');
  await boot(page);
  const stats = await trackAndFlush(page, 'cdp', 300);
  expect(stats).toMatchObject({ handedOff: 300, queued: 0 });
  await expect.poll(() => pageStoredEvents(page)).toBe(0); // the durable queue deletes acknowledged segments in its next write
  // Chrome syncs at once on register() and fails against the dead collector; then it backs off (gotcha 9).
  await settle(collector);
  expect(await swQueued(page, 'cdp')).toBe(6);
  expect(collector.stats().eventsStored).toBe(0);

  collector.setFault({ mode: 'none' });
  await dispatchSync(context, page, collector, 'workbox-background-sync:cdp');
  await expect.poll(() => delivered(collector, 'cdp').unique, { timeout: 30_000 }).toBe(300);
  await expect.poll(() => swQueued(page, 'cdp')).toBe(0);
  expect(delivered(collector, 'cdp')).toMatchObject({ unique: 300, duplicates: 0 });
  expect(collector.stats().eventsReceived).toBe(300);
  expect((await swMessages(page)).filter((m) => m.type === 'outbox:delivered').reduce((n, m) => n + (m.count as number), 0)).toBe(300);
});

test('a 503 during replay keeps the request queued (Workbox default would drop it); the next sync delivers it', async ({ page, context, browserName }) => {
  test.skip(browserName === 'firefox', 'needs CDP ServiceWorker.dispatchSyncEvent; Firefox has no CDP and no SyncManager');
  await handOffWhileDown(page, collector, { script: '/outbox-sw.js?queue=503', queueName: '503', tag: 'r503', count: 20, stored: 1 });

  collector.setFault({ mode: 'status', status: 503, times: 1 });
  await dispatchSync(context, page, collector, 'workbox-background-sync:503');
  await collector.waitFor((c) => c.requests().some((r) => r.status === 503), 20_000);
  // The replay leaves a request stored until its answer is final: after the 503 it is still there.
  await expect.poll(() => swQueued(page, '503')).toBe(1);
  expect(collector.stats().eventsStored).toBe(0);

  await dispatchSync(context, page, collector, 'workbox-background-sync:503');
  await expect.poll(() => delivered(collector, 'r503').unique, { timeout: 20_000 }).toBe(20);
  await expect.poll(() => swQueued(page, '503')).toBe(0);
  expect(delivered(collector, 'r503').duplicates).toBe(0);
});

test('the worker stopped in the middle of a replay (as when its renderer crashes) loses nothing: the request stays stored until answered', async ({ page, context, browserName }) => {
  test.skip(browserName === 'firefox', 'needs CDP ServiceWorker.dispatchSyncEvent and ServiceWorker.stopAllWorkers');
  await handOffWhileDown(page, collector, { script: '/outbox-sw.js?queue=stopped', queueName: 'stopped', tag: 'stopped', count: 20, stored: 1 });

  // The collector holds its answer (a 503 that stores nothing) while the worker is stopped mid-send. Workbox's own
  // shiftRequest deletes the request before sending it: this is where the chaos soak lost records.
  collector.setFault({ mode: 'status', status: 503, delayMs: 600_000, times: 1 });
  await dispatchSync(context, page, collector, 'workbox-background-sync:stopped');
  await expect.poll(() => collector.fault().mode).toBe('none'); // the fault was taken: the request is in flight
  expect(await swQueued(page, 'stopped')).toBe(1);
  const cdp = await context.newCDPSession(page);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await cdp.detach();
  expect(await swQueued(page, 'stopped')).toBe(1);
  expect(collector.stats().eventsStored).toBe(0);

  await boot(page, { storage: 'memory' }); // a client start posts outbox:replay, which starts the worker again
  await expect.poll(() => delivered(collector, 'stopped').unique, { timeout: 20_000 }).toBe(20);
  await expect.poll(() => swQueued(page, 'stopped')).toBe(0);
  expect(delivered(collector, 'stopped').duplicates).toBe(0);
});

test('records in flight when a controlled page navigates away: the worker acknowledges them and the next load removes them instead of resending', async ({ page }) => {
  await controlledPage(page, collector, '/outbox-sw.js?queue=acks');
  const options = { flushAt: 30, timing: { sentGraceMs: 2500 } }; // IndexedDB storage; a grace longer than the answer takes
  await boot(page, options);
  collector.setFault({ mode: 'slow', delayMs: 1000, times: 1 }); // stored at once, answered 1 s later
  await page.evaluate(() => {
    const outbox = (window as unknown as { outbox: { track(t: string, b: unknown): string } }).outbox;
    for (let i = 0; i < 30; i++) outbox.track('event-create', { tag: 'acks', i });
  });
  await expect.poll(() => collector.fault().mode).toBe('none'); // the request is at the collector, its answer held
  // The marks written at pagehide only commit when no other write is under way then (a write-ahead append still
  // running makes them wait, and the document is gone first: the next load then resends at once — seen in CI).
  const volatile = () =>
    page.evaluate(async (bundle) => {
      const { durableStorageOf } = await import(bundle);
      return durableStorageOf((window as unknown as { outbox: unknown }).outbox).volatileCount() as number;
    }, BUNDLE);
  await expect.poll(volatile).toBe(0);
  await page.goto(`${collector.url}/fixtures/blank.html`); // the page is gone before the answer
  await boot(page, options);
  // Without the worker's word the new load resends the 30 (at once, or after the grace): 30 duplicates.
  await expect.poll(() => pageStoredEvents(page), { timeout: 20_000 }).toBe(0);
  expect(delivered(collector, 'acks')).toMatchObject({ unique: 30, duplicates: 0 });
  expect(collector.stats().requests).toBe(1);
  const stats = await page.evaluate(() => (window as unknown as { outbox: { stats(): Record<string, unknown> } }).outbox.stats());
  expect(stats).toMatchObject({ recovered: 0, sent: 0 });
});

test('records in flight when a controlled page crashes (no pagehide, no marks): the next load asks the worker and does not resend them', async ({ page, context, browserName }) => {
  test.skip(browserName === 'firefox', 'needs CDP Page.crash to crash the renderer');
  // The worker starts in the registering page's renderer; the crashing page is another tab (its own renderer), so
  // the worker outlives it. (A crash of the worker's own renderer takes the answer with it: nobody in the browser
  // sees it, and the resend is a duplicate only the server can drop — see the soak's causes.)
  await controlledPage(page, collector, '/outbox-sw.js?queue=crash-acks');
  const victim = await context.newPage();
  victim.on('pageerror', (e) => errors.push(e.message));
  await victim.goto(`${collector.url}/fixtures/blank.html`);
  expect(await victim.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  const options = { flushAt: 30 }; // IndexedDB storage
  await boot(victim, options);
  collector.setFault({ mode: 'slow', delayMs: 1500, times: 1 }); // stored at once, answered 1.5 s later
  await victim.evaluate(() => {
    const outbox = (window as unknown as { outbox: { track(t: string, b: unknown): string } }).outbox;
    for (let i = 0; i < 30; i++) outbox.track('event-create', { tag: 'crash-acks', i });
  });
  await expect.poll(() => collector.fault().mode).toBe('none'); // the request is at the collector, its answer held
  const volatile = () =>
    victim.evaluate(async (bundle) => {
      const { durableStorageOf } = await import(bundle);
      return durableStorageOf((window as unknown as { outbox: unknown }).outbox).volatileCount() as number;
    }, BUNDLE);
  await expect.poll(volatile).toBe(0); // committed: the next load finds all 30, unmarked
  const cdp = await context.newCDPSession(victim);
  const crashed = new Promise((r) => victim.once('crash', r));
  cdp.send('Page.crash').catch(() => undefined); // never answers: the renderer is gone
  await crashed;
  await victim.close();
  await boot(page, options); // the next load: recovers the crashed page's 30 at once (its tab lock is gone)
  // Before the question to the worker this load resent the 30 at once, while the first request's answer was still
  // held: 30 duplicates (measured on the old code).
  await expect.poll(() => pageStoredEvents(page), { timeout: 20_000 }).toBe(0);
  const arrivals = [...collector.arrivals().values()].map((a) => a.length);
  expect({ ids: arrivals.length, extra: arrivals.reduce((n, k) => n + k - 1, 0) }).toEqual({ ids: 30, extra: 0 });
  expect(delivered(collector, 'crash-acks')).toMatchObject({ unique: 30 });
  expect(await page.evaluate(() => (window as unknown as { outbox: { stats(): Record<string, unknown> } }).outbox.stats())).toMatchObject({ sent: 0 });
});

test('207 on replay: acked ids done, 4xx ids dropped and reported, 5xx ids re-queued alone and delivered next', async ({ page, context, browserName }) => {
  test.skip(browserName === 'firefox', 'needs CDP ServiceWorker.dispatchSyncEvent; Firefox has no CDP and no SyncManager');
  collector.setFault({ mode: 'down' });
  await controlledPage(page, collector, '/outbox-sw.js?queue=multi');
  await boot(page, { storage: 'memory' });
  await trackAndFlush(page, 'multi', 10);
  await settle(collector);
  expect(await swQueued(page, 'multi')).toBe(1);
  // The ids the worker holds, read from its queue's stored body.
  const ids = await page.evaluate(
    () =>
      new Promise<string[]>((resolve, reject) => {
        const open = indexedDB.open('workbox-background-sync');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const all = open.result.transaction('requests').objectStore('requests').getAll();
          all.onsuccess = () => {
            const body = (all.result[0] as { requestData: { body: ArrayBuffer } }).requestData.body;
            open.result.close();
            resolve((JSON.parse(new TextDecoder().decode(body)) as { batch: { id: string }[] }).batch.map((e) => e.id));
          };
        };
      }),
  );
  expect(ids).toHaveLength(10);
  collector.setFault({ mode: 'fail-ids', ids: { [ids[0]!]: 400, [ids[1]!]: 503, [ids[2]!]: 429 }, times: 1 });
  await dispatchSync(context, page, collector, 'workbox-background-sync:multi');
  await expect.poll(() => delivered(collector, 'multi').unique, { timeout: 20_000 }).toBe(7);
  await expect.poll(() => swQueued(page, 'multi')).toBe(1);
  await expect.poll(async () => (await swMessages(page)).filter((m) => m.type === 'outbox:dropped')).toEqual([
    { type: 'outbox:dropped', reason: 'rejected', count: 1, requests: 1, status: 400 },
  ]);

  await dispatchSync(context, page, collector, 'workbox-background-sync:multi');
  await expect.poll(() => delivered(collector, 'multi').unique, { timeout: 20_000 }).toBe(9);
  await expect.poll(() => swQueued(page, 'multi')).toBe(0);
  const last = collector.requests().at(-1)!;
  expect(new Set(last.ids)).toEqual(new Set([ids[1], ids[2]])); // only the failed ones were resent
  expect(collector.events().some((e) => e.id === ids[0])).toBe(false);
});

test('no SyncManager (Safari, Firefox): replay on a page message and on worker start', async ({ page, context, browserName }) => {
  collector.setFault({ mode: 'down' });
  await controlledPage(page, collector, '/fixtures/sw-nosync.js');
  await page.evaluate(() => navigator.serviceWorker.controller!.postMessage({ type: 'test:probe' }));
  await expect.poll(async () => (await swMessages(page)).find((m) => m.type === 'test:probe')).toMatchObject({ type: 'test:probe', sync: false });
  await boot(page, { storage: 'memory' });
  expect(await trackAndFlush(page, 'msg', 100)).toMatchObject({ handedOff: 100, queued: 0 });
  expect(await swQueued(page, 'nosync')).toBe(2);
  collector.setFault({ mode: 'none' });
  // Nothing replays by itself: there is no sync event to fire.
  await settle(collector, 1500);
  expect(collector.stats().eventsStored).toBe(0);
  expect(await swQueued(page, 'nosync')).toBe(2);

  // A new client in the page asks the controlling worker to replay (src/platform/service-worker.ts).
  await boot(page, { storage: 'memory' });
  await expect.poll(() => delivered(collector, 'msg').unique, { timeout: 20_000 }).toBe(100);
  await expect.poll(() => swQueued(page, 'nosync')).toBe(0);

  // Worker start: queue more while down, stop the worker, bring the collector back, start the worker by a
  // navigation in its scope (no page client is created, so no message is sent).
  collector.setFault({ mode: 'down' });
  expect(await trackAndFlush(page, 'start', 100)).toMatchObject({ handedOff: 100 });
  expect(await swQueued(page, 'nosync')).toBe(2);
  let stoppedAt = Date.now();
  if (browserName === 'firefox') {
    // No CDP: Firefox ends a worker idle for dom.serviceWorkers.idle_timeout, injected short (playwright.config.ts).
    await page.waitForTimeout(FIREFOX_SW_IDLE_MS * 3);
  } else {
    const cdp = await context.newCDPSession(page);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    stoppedAt = Date.now();
    await cdp.detach();
  }
  collector.setFault({ mode: 'none' });
  await page.reload();
  await expect.poll(() => delivered(collector, 'start').unique, { timeout: 20_000 }).toBe(100);
  await expect.poll(() => swQueued(page, 'nosync')).toBe(0);
  expect(collector.stats().duplicates).toBe(0);
  // It was a new worker instance (started after the stop), not the old one.
  const restarted = await page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        navigator.serviceWorker.addEventListener('message', (e) => e.data?.type === 'test:probe' && resolve(e.data.started));
        navigator.serviceWorker.controller!.postMessage({ type: 'test:probe' });
      }),
  );
  expect(restarted).toBeGreaterThan(stoppedAt);
});

test('maxRetentionMinutes: an expired request is dropped with a count reported; the rest is delivered', async ({ page, context, browserName }) => {
  test.skip(browserName === 'firefox', 'needs CDP ServiceWorker.dispatchSyncEvent; Firefox has no CDP and no SyncManager');
  await handOffWhileDown(page, collector, { script: '/outbox-sw.js?queue=exp&retention=1', queueName: 'exp', tag: 'exp', count: 100, stored: 2 });
  // Age the first stored request past the 1-minute retention, in Workbox's own database; returns its events' i.
  const aged = await page.evaluate(
    () =>
      new Promise<number[]>((resolve, reject) => {
        let is: number[] = [];
        const open = indexedDB.open('workbox-background-sync');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const tx = open.result.transaction('requests', 'readwrite');
          const cursor = tx.objectStore('requests').openCursor();
          cursor.onsuccess = () => {
            const c = cursor.result!;
            c.update({ ...c.value, timestamp: Date.now() - 2 * 60_000 });
            is = (JSON.parse(new TextDecoder().decode(c.value.requestData.body)) as { batch: { body: { i: number } }[] }).batch.map((e) => e.body.i);
          };
          tx.oncomplete = () => (open.result.close(), resolve(is));
          tx.onerror = () => reject(tx.error);
        };
      }),
  );
  collector.setFault({ mode: 'none' });
  await dispatchSync(context, page, collector, 'workbox-background-sync:exp');
  await expect.poll(() => delivered(collector, 'exp').unique, { timeout: 20_000 }).toBe(50);
  await expect.poll(() => swQueued(page, 'exp')).toBe(0);
  expect(aged).toHaveLength(50);
  const expected = [...Array(100).keys()].filter((i) => !aged.includes(i));
  expect(delivered(collector, 'exp').indexes).toEqual(expected);
  await expect.poll(async () => (await swMessages(page)).filter((m) => m.type === 'outbox:dropped')).toEqual([
    { type: 'outbox:dropped', reason: 'expired', count: 50, requests: 1 },
  ]);
});

test('a failed last-chance sync keeps the request; the sync stays registered and a page message delivers it', async ({ page, context, browserName }) => {
  test.skip(browserName === 'firefox', 'needs CDP ServiceWorker.dispatchSyncEvent; Firefox has no CDP and no SyncManager');
  await handOffWhileDown(page, collector, { script: '/outbox-sw.js?queue=last', queueName: 'last', tag: 'last', count: 20, stored: 1 });

  collector.setFault({ mode: 'status', status: 503, times: 1 });
  await dispatchSync(context, page, collector, 'workbox-background-sync:last', true);
  await collector.waitFor((c) => c.requests().some((r) => r.status === 503), 20_000);
  await expect.poll(() => swQueued(page, 'last')).toBe(1);
  const tags = await page.evaluate(async () => {
    const reg = (await navigator.serviceWorker.ready) as ServiceWorkerRegistration & { sync: { getTags(): Promise<string[]> } };
    return reg.sync.getTags();
  });
  expect(tags).toContain('workbox-background-sync:last');
  expect(collector.stats().eventsStored).toBe(0);

  await boot(page, { storage: 'memory' }); // a client start posts outbox:replay
  await expect.poll(() => delivered(collector, 'last').unique, { timeout: 20_000 }).toBe(20);
  await expect.poll(() => swQueued(page, 'last')).toBe(0);
});

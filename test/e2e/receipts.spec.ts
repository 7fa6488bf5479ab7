// The relay's receipts (POST <relay>/outbox/receipts) asked before a resend whose first answer nobody saw, in real
// Chromium with a real service worker, against the real relay (this build's dist/relay.js, mounted at /lf on the
// collector's server and forwarding to it). Each arrival at the relay is counted before its dedup
// (scripts/relay-ingress.mjs), so a resend shows even though the relay keeps it from the collector; each case runs
// once without the receipts too, to show that the count sees the resend it rules out.
import { expect, test, type Page } from '@playwright/test';
import path from 'node:path';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { relayIngress, type RelayIngress } from '../../scripts/relay-ingress.mjs';
import { boot, controlledPage, pageStoredEvents, settle, staticDirs, swQueued } from './fixtures/sw-helpers';
import { root } from './fixtures/page';

let collector: Collector;
let ingress: RelayIngress;

test.beforeAll(async () => {
  ingress = await relayIngress({
    dist: path.join(root, 'dist'),
    options: (upstream) => ({ upstream: { baseUrl: upstream, publicKey: 'pk-sw', secretKey: 'sk-sw' }, publicKeys: ['pk-sw'], allowEventTypes: ['event-create'], rateLimit: false }),
    upstream: () => collector.url,
  });
  collector = await startCollector({ staticDirs, mounts: [{ prefix: '/lf', listener: ingress.listener }] });
});
test.afterAll(() => collector.close());
test.beforeEach(() => {
  collector.reset();
  ingress.reset();
});
const needsCdp = (browserName: string) => test.skip(browserName !== 'chromium', 'stops a service worker or crashes a renderer through CDP, which only Chromium has');

/** Ids of the events tagged `tag` the collector stored. */
const storedIds = (tag: string) => collector.events().filter((e) => (e.body as { tag?: string })?.tag === tag).map((e) => e.id);
/** How many times each of `ids` arrived at the relay taken, as a histogram: { arrivals: ids }. */
function arrivalsOf(ids: string[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const id of ids) out[ingress.count(id)] = (out[ingress.count(id)] ?? 0) + 1;
  return out;
}
const relayStats = () => ingress.stats() as { received?: number; duplicates?: number };

function track(page: Page, tag: string, count: number): Promise<void> {
  return page.evaluate(
    ({ tag, count }) => {
      const outbox = (window as unknown as { outbox: { track(t: string, b: unknown): string; flush(): Promise<void> } }).outbox;
      for (let i = 0; i < count; i++) outbox.track('event-create', { tag, i });
      void outbox.flush();
    },
    { tag, count },
  );
}

/** Page options without a worker: the relay named as such (its receipts asked), the grace short. */
const pageOptions = { publicKey: 'pk-sw', flushAt: 50, flushInterval: 60, timing: { sentGraceMs: 500 }, endpoint: undefined, relay: '/lf' };
/** The same relay named only as an endpoint: nothing tells the page it may ask. */
const withoutRelay = { ...pageOptions, relay: undefined, endpoints: { events: '/lf/api/public/ingestion' } };

/** Boots `page`, and sends 20 records the relay forwards while the collector holds its answer `holdMs`; resolves once they are stored in the page too. */
async function sendHeld(page: Page, tag: string, holdMs: number): Promise<void> {
  await boot(page, pageOptions);
  collector.setFault({ mode: 'slow', delayMs: holdMs });
  const received = relayStats().received ?? 0;
  await track(page, tag, 20);
  await expect.poll(() => relayStats().received ?? 0).toBeGreaterThanOrEqual(received + 20);
  // The write-ahead holds all 20 (a crash before its commit keeps nothing: nothing to resend).
  await expect.poll(() => pageStoredEvents(page)).toBe(20);
}

/** With the receipts each of `ids` reached the relay once and the 20 were asked about; without, each twice. */
async function expectArrivals(receipts: boolean, ids: string[]): Promise<void> {
  if (receipts) {
    // An arrival is counted once the relay's answer is written: the first one may end after the receipts'.
    await expect.poll(() => arrivalsOf(ids)).toEqual({ 1: 20 });
    expect(ingress.queries.ids).toBeGreaterThanOrEqual(20);
  } else {
    await expect.poll(() => arrivalsOf(ids), { timeout: 15_000 }).toEqual({ 2: 20 });
  }
  expect(collector.stats().duplicates).toBe(0);
}

for (const receipts of [true, false]) {
  test(`a worker stopped while the relay forwards its replay: the next worker ${receipts ? 'asks the receipts and sends nothing again' : 'without receipts sends it again'}`, async ({ page, context, browserName }) => {
    needsCdp(browserName);
    const queue = receipts ? 'rcpt' : 'norcpt';
    const tag = `sw-${queue}`;
    // A request the worker stores: the relay answers 503 while the collector does.
    collector.setFault({ mode: 'status', status: 503 });
    await controlledPage(page, collector, `/outbox-sw.js?endpoint=/lf/api/public/ingestion&queue=${queue}${receipts ? '&receipts=/lf/outbox/receipts' : ''}`);
    await boot(page, { storage: 'memory', endpoint: undefined, relay: '/lf' });
    await track(page, tag, 20);
    await expect.poll(() => swQueued(page, queue)).toBe(1);
    await settle(collector);

    // Its replay reaches the relay, whose upstream holds the answer 4 s; the worker is stopped meanwhile.
    collector.setFault({ mode: 'slow', delayMs: 4000 });
    const received = relayStats().received ?? 0;
    await page.evaluate(() => navigator.serviceWorker.controller!.postMessage({ type: 'outbox:replay' }));
    await expect.poll(() => relayStats().received ?? 0).toBeGreaterThanOrEqual(received + 20);
    const cdp = await context.newCDPSession(page);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    // The relay's forward completes without the worker: the collector has the 20, the worker's queue still holds them.
    await expect.poll(() => storedIds(tag).length, { timeout: 15_000 }).toBe(20);
    expect(await swQueued(page, queue)).toBe(1);
    collector.setFault({ mode: 'none' });

    // A page message starts the worker again; its start replays the queue.
    await page.evaluate(() => navigator.serviceWorker.controller!.postMessage({ type: 'outbox:replay' }));
    await expect.poll(() => swQueued(page, queue), { timeout: 15_000 }).toBe(0);
    const ids = storedIds(tag);
    if (receipts) {
      expect(arrivalsOf(ids)).toEqual({ 1: 20 }); // each id reached the relay once
      expect(ingress.queries.asked).toBeGreaterThanOrEqual(1);
      expect(relayStats().duplicates).toBe(0);
    } else {
      expect(arrivalsOf(ids)).toEqual({ 2: 20 }); // sent again whole; the relay's dedup kept the copy from the collector
      expect(ingress.queries.asked).toBe(0);
    }
    expect(collector.stats().duplicates).toBe(0);
  });

  test(`a page crashed while the relay forwards its request: the next load ${receipts ? 'asks the receipts instead of resending' : 'without receipts resends'}`, async ({ context, browserName }) => {
    needsCdp(browserName);
    const tag = `page-${receipts}`;
    const first = await context.newPage();
    await first.goto(`${collector.url}/fixtures/blank.html`);
    // No worker here: the page notes its in-flight ids, and a load after the crash recovers them after the grace.
    await sendHeld(first, tag, 4000);
    const cdp = await context.newCDPSession(first);
    const crashed = new Promise((r) => first.once('crash', r));
    cdp.send('Page.crash').catch(() => undefined);
    await crashed;
    await first.close();
    await expect.poll(() => storedIds(tag).length, { timeout: 15_000 }).toBe(20);
    collector.setFault({ mode: 'none' });

    // The next load: with `relay`, it asks the relay; with the same relay named only as an endpoint, it cannot.
    const next = await context.newPage();
    await next.goto(`${collector.url}/fixtures/blank.html`);
    await boot(next, receipts ? pageOptions : withoutRelay);
    await expect.poll(() => pageStoredEvents(next), { timeout: 15_000 }).toBe(0);
    await expectArrivals(receipts, storedIds(tag));
    if (receipts) expect(await next.evaluate(() => (window as unknown as { outbox: { stats(): { recovered: number; sent: number } } }).outbox.stats())).toMatchObject({ recovered: 0, sent: 0 });
  });

  test(`a page that left while the relay held its answer: the next load ${receipts ? 'asks the receipts instead of resending' : 'without receipts resends'}`, async ({ page }) => {
    const tag = `leave-${receipts}`;
    await page.goto(`${collector.url}/fixtures/blank.html`);
    // No worker: at pagehide the page marks its in-flight records sent; the next load recovers them after the grace.
    await sendHeld(page, tag, 3000);
    // The next document in the same tab, while the relay still waits for the collector's answer.
    await page.goto(`${collector.url}/fixtures/blank.html?next`);
    collector.setFault({ mode: 'none' });
    await boot(page, receipts ? pageOptions : withoutRelay);
    await expect.poll(() => storedIds(tag).length, { timeout: 15_000 }).toBe(20);
    await expect.poll(() => pageStoredEvents(page), { timeout: 15_000 }).toBe(0);
    await expectArrivals(receipts, storedIds(tag));
  });

  test(`a worker stopped while it forwards a live page's request: Chromium dispatches it again, and the next worker ${receipts ? 'asks the receipts first and forwards nothing' : 'without receipts forwards it again'}`, async ({ page, context, browserName }) => {
    needsCdp(browserName);
    const queue = receipts ? 'live' : 'nolive';
    const tag = `live-${queue}`;
    await controlledPage(page, collector, `/outbox-sw.js?endpoint=/lf/api/public/ingestion&queue=${queue}${receipts ? '&receipts=/lf/outbox/receipts' : ''}`);
    const options = { storage: 'memory', retry: { initialDelayMs: 200, maxDelayMs: 1000 } };
    await boot(page, receipts ? { ...options, endpoint: undefined, relay: '/lf' } : { ...options, endpoint: '/lf/api/public/ingestion' });
    // The page's request goes through the worker to the relay, whose upstream holds the answer 4 s.
    collector.setFault({ mode: 'slow', delayMs: 4000 });
    const received = relayStats().received ?? 0;
    await track(page, tag, 20);
    await expect.poll(() => relayStats().received ?? 0).toBeGreaterThanOrEqual(received + 20);
    // The worker dies mid-forward. The page's fetch does not fail: Chromium dispatches the fetch event again to a new
    // worker (the page makes one request; two arrive through the worker), which forwards it again unless the worker
    // before it noted the ids it was forwarding (storage/forwarding.ts) and the relay says it took them.
    const cdp = await context.newCDPSession(page);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    await expect.poll(() => storedIds(tag).length, { timeout: 15_000 }).toBe(20);
    collector.setFault({ mode: 'none' });
    const stats = () => page.evaluate(() => (window as unknown as { outbox: { stats(): Record<string, number> } }).outbox.stats());
    await expect.poll(async () => (await stats()).sent, { timeout: 15_000 }).toBe(20);
    await expectArrivals(receipts, storedIds(tag));
    expect(await stats()).toMatchObject({ tracked: 20, sent: 20, queued: 0, inflight: 0, requests: 1 });
  });
}

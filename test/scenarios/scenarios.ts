/**
 * The delivery scenarios that matter most in a page, written once against the BrowserDriver interface (./driver.ts)
 * and run in WebKit (test/webkit/webkit.test.ts, over WebDriver) and in Chromium (test/e2e/scenarios.spec.ts, over
 * Playwright). Each starts its own collector — a new port is a new origin, so a scenario starts with empty storage
 * and no service worker even when the browser session is reused — counts unique ids at the collector (which stores
 * each id once) and duplicates from its request log (which keeps every arrival), and returns those numbers.
 * Assertions are node:assert, so any runner can host them.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { countWorkboxRequests, marksOf, readSentNotes, readStoredSegments } from '../e2e/fixtures/page';
import { startRelayApp, RELAY_PK } from '../e2e/fixtures/relay-app';
import type { BrowserDriver, Tab } from './driver';

export const root = path.resolve(import.meta.dirname, '../..');
/** dist/ under /dist/ and at / (so /outbox-sw.js has scope /), the e2e fixture pages under /fixtures/. */
const staticDirs = [
  { prefix: '/dist/', dir: path.join(root, 'dist') },
  { prefix: '/fixtures/', dir: path.join(root, 'test/e2e/fixtures') },
  { prefix: '/', dir: path.join(root, 'dist') },
];
const BUNDLE = '/dist/outbox.browser.js';

/** What a scenario measured: records it tracked, distinct ones that arrived, and extra arrivals of them. */
export interface Outcome {
  expected: number;
  delivered: number;
  duplicates: number;
  /** Anything else worth a line in the run table (e.g. how many came by the unload path). */
  note?: string;
}

export interface Scenario {
  name: string;
  /** Optional Tab capabilities the scenario needs; a driver without one skips it. */
  needs?: readonly ('hide' | 'endServiceWorkers')[];
  run(browser: BrowserDriver): Promise<Outcome>;
}

// ---------------------------------------------------------------------------------------------------------------
// Node-side helpers

/** Polls `fn` until `ok(value)`; throws with the last value after `timeoutMs`. Never a fixed sleep. */
export async function until<T>(what: string, fn: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 25; ; wait = Math.min(wait * 2, 250)) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, wait));
  }
}

/**
 * How often each id arrived, from the collector's request log (every arrival, resends included): answered 2xx, or
 * status 0 — stored but the answer not delivered (the page was gone; with the faults used here, 'slow' stores before
 * it holds the answer, and 'down' closes the socket before reading, so its entries carry no ids).
 */
function arrivals(collector: Collector): Map<string, number> {
  const seen = new Map<string, number>();
  for (const r of collector.requests()) {
    if (r.status !== 0 && (r.status < 200 || r.status >= 300)) continue;
    for (const id of r.ids) if (id) seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  return seen;
}

/** Resolves once the collector has taken no new request for `quietMs` (polled). */
async function quiet(c: Collector, quietMs = 600): Promise<void> {
  let seen = -1;
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    const { requests, eventsReceived } = c.stats(); // eventsReceived moves when a body is stored, before a held answer
    const now = requests + eventsReceived;
    if (now !== seen) (seen = now), (since = Date.now());
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Distinct events tagged `tag` (body.tag) at the collector, their distinct indexes, and extra arrivals of them. */
export function count(collector: Collector, tag: string): { unique: number; indexes: number; duplicates: number; dupIds: string[] } {
  const ids = new Set<string>();
  const indexes = new Set<number>();
  for (const e of collector.events()) {
    const body = e.body as { tag?: string; i?: number };
    if (body?.tag === tag) (ids.add(e.id), indexes.add(body.i!));
  }
  const seen = arrivals(collector);
  const dupIds = [...ids].filter((id) => (seen.get(id) ?? 0) > 1);
  return { unique: ids.size, indexes: indexes.size, duplicates: dupIds.reduce((n, id) => n + seen.get(id)! - 1, 0), dupIds };
}

async function delivered(collector: Collector, tag: string, n: number, timeoutMs = 15_000): Promise<void> {
  await until(`${n} events tagged ${tag} at the collector`, () => count(collector, tag).unique, (u) => u >= n, timeoutMs);
  const c = count(collector, tag);
  assert.equal(c.unique, n, `${tag}: unique`);
  assert.equal(c.indexes, n, `${tag}: distinct indexes`);
}

/**
 * Loads the bundle and creates `window.outbox`; onError/onDrop and the page's uncaught errors and unhandled
 * rejections go to `window.__log` (WebDriver has no console or page-error events: read back with pageLog).
 */
async function boot(tab: Tab, options: Record<string, unknown>): Promise<void> {
  await tab.evaluate(
    async ({ bundle, options }) => {
      const w = window as unknown as Record<string, unknown>;
      const log: string[] = ((w.__log as string[]) ??= []);
      if (!w.__watching) {
        w.__watching = true;
        addEventListener('error', (e) => log.push(`page error: ${e.message}`));
        addEventListener('unhandledrejection', (e) => log.push(`unhandled rejection: ${String(e.reason)}`));
      }
      // Not a literal import(): vitest rewrites those in test code, and this function's source runs in the page.
      const load = new Function('url', 'return import(url)') as (url: string) => Promise<{ createOutbox(o: unknown): unknown }>;
      const { createOutbox } = await load(bundle);
      w.outbox = createOutbox({
        ...(options.relay ? {} : { endpoint: '/api/public/ingestion' }),
        publicKey: 'pk-shared',
        ...options,
        onError: (e: Error) => log.push(`error: ${e.message}`),
        onDrop: (d: { reason: string; count: number }) => log.push(`drop: ${d.reason} ${d.count}`),
      });
    },
    { bundle: BUNDLE, options },
  );
}

function pageLog(tab: Tab): Promise<string[]> {
  return tab.evaluate(() => ((window as unknown as { __log?: string[] }).__log ?? []).slice());
}

/** Tracks `count` events tagged `tag` in one task, bodies `{ tag, i, pad }` (~300 B on the wire with pad), i from `from`. */
function track(tab: Tab, tag: string, count: number, pad = 0, from = 0): Promise<void> {
  return tab.evaluate(
    ({ tag, count, pad, from }) => {
      const outbox = (window as unknown as { outbox: { track(t: string, b: unknown): string } }).outbox;
      const filler = 'x'.repeat(pad);
      for (let i = from; i < from + count; i++) outbox.track('event-create', pad ? { tag, i, pad: filler } : { tag, i });
    },
    { tag, count, pad, from },
  );
}

/** Records the page's visibilitychange states and pageshow/pagehide events into `window.__lifecycle`. */
function watchLifecycle(tab: Tab): Promise<void> {
  return tab.evaluate(() => {
    const w = window as unknown as { __lifecycle: string[] };
    w.__lifecycle = [];
    addEventListener('visibilitychange', () => w.__lifecycle.push(document.visibilityState));
    addEventListener('pagehide', (e) => w.__lifecycle.push(`pagehide${e.persisted ? ' persisted' : ''}`));
    addEventListener('pageshow', (e) => w.__lifecycle.push(`pageshow${e.persisted ? ' persisted' : ''}`));
  });
}
const lifecycle = (tab: Tab) => tab.evaluate(() => (window as unknown as { __lifecycle?: string[] }).__lifecycle ?? null);

/** The browser entry's durable queue (database `outbox`, committed segments only): events, and sent-marks (with the sent-notes). */
async function stored(tab: Tab): Promise<{ events: number; marked: string[] }> {
  const segs = await tab.evaluate(readStoredSegments);
  const marked = marksOf(segs, await tab.evaluate(readSentNotes));
  return { events: segs.reduce((n, s) => n + s.events.length, 0), marked: [...marked] };
}

const storedEvents = async (tab: Tab) => (await stored(tab)).events;
const clientStats = (tab: Tab) => tab.evaluate(() => (window as unknown as { outbox: { stats(): Record<string, number> } }).outbox.stats());

/** Runs `body` with a fresh collector (a fresh origin) and closes it after. */
async function withCollector(body: (c: Collector) => Promise<Outcome>): Promise<Outcome> {
  const collector = await startCollector({ staticDirs });
  try {
    const outcome = await body(collector);
    // The store counts every arrival of an id it already had: the request-log count must see the same.
    assert.equal(outcome.duplicates, collector.stats().duplicates, 'duplicates: request log vs store');
    return outcome;
  } finally {
    await collector.close();
  }
}

/** The grace before what an unload send marked is resent (60 s by default), injected short. */
const GRACE = { timing: { sentGraceMs: 1500 } };
/** Nothing is sent by itself: only the unload path can deliver. */
const QUIET = { flushAt: 10_000, flushInterval: 3600, maxBatchBytes: 4 << 20 };
/** Sends on its own, in batches of 50. */
const BATCHED = { flushAt: 50, flushInterval: 0.2 };

/** Requests with records and the client's own headers (JSON + Bearer): under QUIET, all came by the unload path. */
const unloadRequests = (c: Collector) => c.requests().filter((r) => r.count > 0 && r.contentType?.startsWith('application/json') && r.auth === 'bearer').length;

// ---------------------------------------------------------------------------------------------------------------
// The scenarios

/** Leaves the page by `leave` right after tracking 200 events of ~300 B, nothing sent before: all by the unload path. */
function unloadScenario(name: string, leave: (tab: Tab, c: Collector) => Promise<void>): Scenario {
  return {
    name,
    run: (browser) =>
      withCollector(async (c) => {
        const tab = await browser.newTab();
        await tab.goto(`${c.url}/fixtures/blank.html`);
        await boot(tab, QUIET);
        await track(tab, 'leave', 200, 150);
        const log = await pageLog(tab);
        await leave(tab, c);
        await delivered(c, 'leave', 200, 5_000);
        assert.ok(unloadRequests(c) > 0, 'came by the unload path');
        assert.deepEqual(log, []);
        return { expected: 200, ...pick(count(c, 'leave')), note: `${unloadRequests(c)} unload request(s)` };
      }),
  };
}

const pick = ({ unique, duplicates }: { unique: number; duplicates: number }) => ({ delivered: unique, duplicates });

export const scenarios: Scenario[] = [
  {
    // A documented limit, the same in Chromium: a request whose answer the page never reads (the reload came first)
    // is sent again by the next load; without a service worker's acknowledgements no page can know it arrived.
    name: 'durable queue: write-ahead, reload while batches are in flight (answers held): 500/500; resent: only what had reached the collector unanswered',
    run: (browser) =>
      withCollector(async (c) => {
        const tab = await browser.newTab();
        c.setFault({ mode: 'slow', delayMs: 400 }); // requests are stored, answers held: reload mid-flight
        await tab.goto(`${c.url}/fixtures/blank.html`);
        await boot(tab, { ...BATCHED, maxBatchEvents: 50 });
        await track(tab, 'reload', 500);
        await until('the write-ahead commit of 500', () => storedEvents(tab), (n) => n === 500);
        await until('2 requests under way', () => c.requests().length, (n) => n >= 2);
        const log = await pageLog(tab);
        await tab.reload();
        // What the collector stored by the time the old page's sends (in flight, and its unload send) have landed
        // went out before the reload, answers unseen: only those may come twice (at-least-once, by design).
        await quiet(c);
        const inFlight = new Set(c.events().map((e) => e.id));
        c.setFault({ mode: 'none' });
        await boot(tab, { ...BATCHED, maxBatchEvents: 50, ...GRACE });
        await delivered(c, 'reload', 500);
        await until('an empty queue', () => storedEvents(tab), (n) => n === 0);
        const n = count(c, 'reload');
        assert.deepEqual(n.dupIds.filter((id) => !inFlight.has(id)), [], 'a duplicate that was not in flight at the reload');
        assert.deepEqual([...log, ...(await pageLog(tab))], []);
        assert.equal(n.duplicates, c.stats().duplicates, 'the request log and the store count the same duplicates');
        return { expected: 500, ...pick(n), note: `${inFlight.size} stored before the reload's answers were read` };
      }),
  },
  {
    name: 'durable queue: collector down, 300 tracked, window closed, a second window of the origin delivers 300/300 once',
    run: (browser) =>
      withCollector(async (c) => {
        const first = await browser.newTab();
        await first.goto(`${c.url}/fixtures/blank.html`);
        await boot(first, { ...BATCHED, ...GRACE });
        c.setFault({ mode: 'down' }); // every request fails: nothing can be delivered before the close
        await track(first, 'reopen', 300);
        await until('the write-ahead commit of 300', () => storedEvents(first), (n) => n === 300);
        const log = await pageLog(first);
        await first.close();
        const second = await browser.newTab();
        await second.goto(`${c.url}/fixtures/blank.html`);
        assert.equal(count(c, 'reopen').unique, 0, 'nothing arrived while down');
        c.setFault({ mode: 'none' });
        await boot(second, { ...BATCHED, ...GRACE });
        await delivered(c, 'reopen', 300);
        await until('an empty queue', () => storedEvents(second), (n) => n === 0);
        assert.deepEqual([...log, ...(await pageLog(second))], []);
        const n = count(c, 'reopen');
        assert.equal(n.duplicates, 0, 'duplicates');
        await second.close();
        return { expected: 300, ...pick(n) };
      }),
  },
  unloadScenario('unload: navigation to about:blank: 200/200 by the unload path within 5 s', (tab) => tab.goto('about:blank')),
  unloadScenario('unload: location.href to another page of the origin: 200/200 within 5 s', async (tab, c) => {
    await tab.evaluate((url) => void setTimeout(() => (location.href = url), 0), `${c.url}/fixtures/blank.html?next`);
    await until('the next page', () => tab.evaluate(() => location.search).catch(() => ''), (s) => s === '?next');
  }),
  unloadScenario('unload: the window closed: 200/200 within 5 s', (tab) => tab.close()),
  {
    name: 'unload: the window hidden (minimized) while it lives on: 50/50 arrive before any navigation; 50 more, then closed while hidden: 100/100 once',
    needs: ['hide'],
    run: (browser) =>
      withCollector(async (c) => {
        const tab = await browser.newTab();
        await tab.goto(`${c.url}/fixtures/blank.html`);
        await boot(tab, QUIET);
        await watchLifecycle(tab);
        await track(tab, 'hidden', 50, 150);
        await tab.hide!();
        await delivered(c, 'hidden', 50, 5_000);
        assert.deepEqual(await lifecycle(tab), ['hidden']);
        // Settled from the keepalive answers: nothing left to resend.
        await until('sent 50, queued 0', () => clientStats(tab), (s) => s.sent === 50 && s.queued === 0);
        await until('an empty queue', () => storedEvents(tab), (n) => n === 0);
        // Still hidden: 50 more, then the window closes (WebKit fires visibilitychange → hidden again, then pagehide).
        await track(tab, 'hidden', 50, 150, 50);
        const log = await pageLog(tab);
        await tab.close();
        await delivered(c, 'hidden', 100, 5_000);
        assert.deepEqual(log, []);
        return { expected: 100, ...pick(count(c, 'hidden')), note: `${unloadRequests(c)} unload request(s)` };
      }),
  },
  {
    name: 'back/forward cache: 100, leave (same origin), back, 100 more, leave: 200/200 once',
    run: (browser) =>
      withCollector(async (c) => {
        const tab = await browser.newTab();
        await tab.goto(`${c.url}/fixtures/blank.html`);
        await boot(tab, QUIET);
        await watchLifecycle(tab);
        await track(tab, 'bf', 100, 150);
        await tab.goto(`${c.url}/fixtures/blank.html?away`);
        await delivered(c, 'bf', 100, 5_000);
        await tab.back();
        const restored = await until('the page back', () => lifecycle(tab).catch(() => null), (l) => l === null || l.includes('pageshow persisted'), 10_000);
        // Not restored (a fresh load): a new client, which recovers what the old one left.
        if (restored === null) await boot(tab, QUIET);
        await track(tab, 'bf', 100, 150, 100);
        const log = await pageLog(tab);
        await tab.goto('about:blank');
        await delivered(c, 'bf', 200, 5_000);
        assert.deepEqual(log, []);
        return { expected: 200, ...pick(count(c, 'bf')), note: restored === null ? 'not restored from the bfcache' : `restored from the bfcache: ${restored.join(', ')}` };
      }),
  },
  {
    name: 'back/forward cache and a second tab: 100 unsent while down, the page cached, another tab of the origin starts, back, up: 100/100 once',
    run: (browser) =>
      withCollector(async (c) => {
        const first = await browser.newTab();
        await first.goto(`${c.url}/fixtures/blank.html`);
        await boot(first, { ...BATCHED, ...GRACE });
        await watchLifecycle(first);
        c.setFault({ mode: 'down' }); // nothing can be delivered while the page is away
        await track(first, 'parked', 100);
        await until('the write-ahead commit of 100', () => storedEvents(first), (n) => n === 100);
        await first.goto(`${c.url}/fixtures/blank.html?away`);
        // Another tab of the origin starts a client while the first page sits in the back/forward cache: it must
        // not take the cached page's records (that page may come back and send them itself).
        const second = await browser.newTab();
        await second.goto(`${c.url}/fixtures/blank.html`);
        await boot(second, { ...BATCHED, ...GRACE });
        // Its first recovery pass runs at start (before the fix it adopted all 100 there); 2 s also outlast the
        // injected sent-grace, so a later pass would have taken them too. Not a timing assertion: a slow pass can
        // only hide the defect here, never fail the scenario falsely.
        await new Promise((r) => setTimeout(r, 2_000));
        const adopted = (await clientStats(second)).recovered ?? 0;
        await first.back();
        const restored = await until('the page back', () => lifecycle(first).catch(() => null), (l) => l === null || l.includes('pageshow persisted'), 10_000);
        if (restored === null) await boot(first, { ...BATCHED, ...GRACE });
        c.setFault({ mode: 'none' });
        for (const t of [first, second]) await t.evaluate(() => void window.dispatchEvent(new Event('online')));
        await delivered(c, 'parked', 100);
        for (const t of [first, second]) await until('sent what it holds', () => clientStats(t), (s) => s.queued === 0 && s.inflight === 0);
        await until('an empty queue', () => storedEvents(second), (n) => n === 0);
        const n = count(c, 'parked');
        assert.equal(n.duplicates, 0, `duplicates (the second tab recovered ${adopted} while the first was cached)`);
        assert.deepEqual([...(await pageLog(first)), ...(await pageLog(second))], []);
        return { expected: 100, ...pick(n), note: `${restored === null ? 'not restored' : 'restored'} from the bfcache; the other tab recovered ${adopted}` };
      }),
  },
  {
    name: 'several tabs: three track 200 each at once, two close: 600/600, no duplicate',
    run: (browser) =>
      withCollector(async (c) => {
        const tabs = [await browser.newTab(), await browser.newTab(), await browser.newTab()];
        for (const t of tabs) {
          await t.goto(`${c.url}/fixtures/blank.html`);
          await boot(t, BATCHED);
        }
        c.setFault({ mode: 'slow', delayMs: 150 });
        await Promise.all(tabs.map((t, n) => track(t, `tab${n}`, 200)));
        for (let n = 0; n < 3; n++) await delivered(c, `tab${n}`, 200);
        for (const t of tabs) await until('sent 200', () => clientStats(t), (s) => s.sent === 200);
        const log = (await Promise.all(tabs.map(pageLog))).flat();
        await tabs[0]!.close();
        await tabs[1]!.close();
        const survivor = tabs[2]!;
        await survivor.evaluate(() => void window.dispatchEvent(new Event('online'))); // another recovery pass
        await until('an empty queue', () => storedEvents(survivor), (n) => n === 0);
        assert.equal(c.events().length, 600);
        const all = [0, 1, 2].map((n) => count(c, `tab${n}`));
        assert.equal(c.stats().duplicates, 0, 'duplicates');
        assert.deepEqual([...log, ...(await pageLog(survivor))], []);
        await survivor.close();
        return { expected: 600, delivered: all.reduce((s, x) => s + x.unique, 0), duplicates: all.reduce((s, x) => s + x.duplicates, 0) };
      }),
  },
  {
    name: 'several tabs: collector down, two of three close with unsent events: the survivor sends all 600, resends only of what their unload path sent',
    run: (browser) =>
      withCollector(async (c) => {
        const tabs = [await browser.newTab(), await browser.newTab(), await browser.newTab()];
        for (const t of tabs) {
          await t.goto(`${c.url}/fixtures/blank.html`);
          await boot(t, { ...BATCHED, ...GRACE });
        }
        c.setFault({ mode: 'down' });
        await Promise.all(tabs.map((t, n) => track(t, `tab${n}`, 200)));
        for (const t of tabs) await until('600 stored', () => storedEvents(t), (n) => n === 600);
        const log = (await Promise.all(tabs.map(pageLog))).flat();
        await tabs[0]!.close();
        await tabs[1]!.close();
        const survivor = tabs[2]!;
        // What the closing tabs' unload path sent has an unknown fate (their pages are gone): those records are
        // marked in the store, resent after the grace, and only they may arrive twice (at-least-once by design;
        // Chromium delivers such a keepalive request once the collector is back).
        const beaconed = new Set((await stored(survivor)).marked);
        c.setFault({ mode: 'none' });
        await survivor.evaluate(() => void window.dispatchEvent(new Event('online')));
        for (let n = 0; n < 3; n++) await delivered(c, `tab${n}`, 200, 20_000);
        await until('an empty queue', () => storedEvents(survivor), (n) => n === 0);
        const all = [0, 1, 2].map((n) => count(c, `tab${n}`));
        assert.deepEqual(all.flatMap((x) => x.dupIds).filter((id) => !beaconed.has(id)), [], 'a duplicate that was not marked sent');
        assert.deepEqual([...log, ...(await pageLog(survivor))], []);
        await survivor.close();
        return { expected: 600, delivered: all.reduce((s, x) => s + x.unique, 0), duplicates: all.reduce((s, x) => s + x.duplicates, 0) };
      }),
  },
  {
    name: 'script tag: dist/outbox.global.js with the stub, 3 calls before it loads and 50 after, then leave: 53/53 once',
    run: (browser) =>
      withCollector(async (c) => {
        const tab = await browser.newTab();
        await tab.goto(`${c.url}/fixtures/script-tag.html`);
        await tab.evaluate(() => {
          const w = window as unknown as { __log: string[] };
          w.__log = [];
          addEventListener('error', (e) => w.__log.push(`page error: ${e.message}`));
          addEventListener('unhandledrejection', (e) => w.__log.push(`unhandled rejection: ${String(e.reason)}`));
        });
        await until(
          'the real client in place of the stub',
          () => tab.evaluate(() => {
            const w = window as unknown as { Outbox?: unknown; outbox?: object };
            return !!w.Outbox && !!w.outbox && !('q' in w.outbox);
          }),
          (ok) => ok,
        );
        assert.equal(await tab.evaluate(() => (window as unknown as { __preFlush: Promise<string> }).__preFlush), 'flushed');
        await tab.evaluate(() => {
          const outbox = (window as unknown as { outbox: { track(t: string, b: unknown): string } }).outbox;
          for (let i = 0; i < 50; i++) outbox.track('post', { tag: 'post', i });
        });
        const log = await pageLog(tab);
        await tab.goto('about:blank');
        await until('53 events', () => c.events().length, (n) => n >= 53, 5_000);
        const events = c.events();
        assert.deepEqual(events.slice(0, 3).map((e) => [e.type, (e.body as { n: number }).n]), [['pre', 1], ['pre', 2], ['pre', 3]]);
        assert.equal(count(c, 'post').unique, 50);
        const seen = arrivals(c);
        const duplicates = events.reduce((n, e) => n + Math.max(0, (seen.get(e.id) ?? 0) - 1), 0);
        assert.equal(duplicates, 0, 'duplicates');
        assert.ok(c.requests().every((r) => r.auth === 'bearer'), 'data-public-key on every request');
        assert.deepEqual(log, []);
        await tab.close();
        return { expected: 53, delivered: events.length, duplicates };
      }),
  },
  serviceWorkerScenario(),
  {
    name: 'relay: 100 traces (span + generation) and 100 scores, page → outbox/relay → collector (Langfuse v4), then leave: each once',
    run: async (browser) => {
      const app = await startRelayApp();
      try {
        const c = app.collector;
        const tab = await browser.newTab();
        await tab.goto(`${app.url}/fixtures/blank.html`);
        await boot(tab, { relay: '/lf', publicKey: RELAY_PK, flushInterval: 1 });
        await tab.evaluate(() => {
          type O = { startObservation(n: string, a: unknown, o: unknown): { traceId: string; startObservation(n: string, a: unknown, o: unknown): { end(): void }; end(): void }; score(s: unknown): string };
          const outbox = (window as unknown as { outbox: O }).outbox;
          for (let i = 0; i < 100; i++) {
            const root = outbox.startObservation(`rel-${i}`, { input: { i } }, { trace: { name: 'relay' } });
            root.startObservation(`relgen-${i}`, { model: 'm', output: { i } }, { asType: 'generation' }).end();
            root.end();
            outbox.score({ name: 'quality', value: i, traceId: root.traceId });
          }
        });
        const log = await pageLog(tab);
        await tab.goto('about:blank');
        const spans = () => c.observations().filter((o) => /^rel(gen)?-/.test(o.name));
        await until('200 observations', () => spans().length, (n) => n >= 200, 10_000).catch((e: Error) => {
          const log = c.requests().map((r) => `${r.path} ${r.status} ${r.count} ${r.auth}`);
          throw new Error(`${e.message}; collector requests: ${JSON.stringify(log)}; scores ${c.scores().length}; relay: ${JSON.stringify(app.relay.stats())}`);
        });
        await until('100 scores', () => c.scores().length, (n) => n >= 100, 10_000);
        const obs = spans();
        const spanDups = obs.reduce((n, o) => n + o.arrivals - 1, 0);
        const seen = arrivals(c);
        const scoreIds = c.scores().map((s) => (s as { id: string }).id);
        const scoreDups = scoreIds.reduce((n, id) => n + Math.max(0, (seen.get(id) ?? 0) - 1), 0);
        assert.equal(obs.length, 200);
        assert.equal(new Set(scoreIds).size, 100);
        assert.equal(spanDups, 0, 'observation duplicates');
        assert.equal(scoreDups, 0, 'score duplicates');
        assert.deepEqual(log, []);
        await tab.close();
        return { expected: 300, delivered: obs.length + scoreIds.length, duplicates: spanDups + scoreDups, note: '200 observations + 100 scores' };
      } finally {
        await app.close();
      }
    },
  },
];

/** Events in the Workbox queue `queueName` of the origin (read from the page). */
function swQueued(tab: Tab, queueName: string): Promise<number> {
  return tab.evaluate(countWorkboxRequests, queueName);
}

function serviceWorkerScenario(): Scenario {
  return {
    name: 'service worker without SyncManager: hand-off while down, replay on a page message (100) and at worker start (100), each once',
    needs: ['endServiceWorkers'],
    run: (browser) =>
      withCollector(async (c) => {
        const tab = await browser.newTab();
        c.setFault({ mode: 'down' });
        await tab.goto(`${c.url}/fixtures/blank.html`);
        await tab.evaluate(async (script) => {
          const w = window as unknown as { swMessages: unknown[] };
          w.swMessages = [];
          navigator.serviceWorker.addEventListener('message', (e) => w.swMessages.push(e.data));
          const changed = new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true }));
          await navigator.serviceWorker.register(script);
          await navigator.serviceWorker.ready;
          if (!navigator.serviceWorker.controller) await changed;
        }, '/fixtures/sw-nosync.js');
        // WebKit: a page is controlled only after a reload, even with clients.claim() (platform-facts §11).
        if (!(await tab.evaluate(() => navigator.serviceWorker.controller !== null))) {
          await tab.reload();
          await until('a controlled page', () => tab.evaluate(() => navigator.serviceWorker.controller !== null), (ok) => ok);
          await tab.evaluate(() => {
            const w = window as unknown as { swMessages: unknown[] };
            w.swMessages = [];
            navigator.serviceWorker.addEventListener('message', (e) => w.swMessages.push(e.data));
          });
        }
        const probe = () =>
          tab.evaluate(
            () =>
              new Promise<{ sync: boolean; started: number }>((resolve) => {
                navigator.serviceWorker.addEventListener('message', (e) => e.data?.type === 'test:probe' && resolve(e.data));
                navigator.serviceWorker.controller!.postMessage({ type: 'test:probe' });
              }),
          );
        assert.equal((await probe()).sync, false, 'the worker sees no SyncManager');
        const handOff = (tag: string) =>
          tab.evaluate(async (tag) => {
            const outbox = (window as unknown as { outbox: { track(t: string, b: unknown): string; flush(): Promise<void>; stats(): Record<string, number> } }).outbox;
            for (let i = 0; i < 100; i++) outbox.track('event-create', { tag, i });
            await outbox.flush();
            return outbox.stats();
          }, tag);
        const sw = { storage: 'memory', publicKey: 'pk-sw', flushAt: 50, maxBatchEvents: 50, flushInterval: 60 };
        await boot(tab, sw);
        assert.equal((await handOff('msg')).handedOff, 100);
        assert.equal(await swQueued(tab, 'nosync'), 2);
        c.setFault({ mode: 'none' });
        // A new client in the page asks the controlling worker to replay.
        await boot(tab, sw);
        await delivered(c, 'msg', 100);
        await until('an empty worker queue', () => swQueued(tab, 'nosync'), (n) => n === 0);

        // Worker start: queue more while down; the worker is ended; the collector comes back and a navigation in
        // scope starts a new worker, which replays by itself (no Outbox client in the page asks).
        c.setFault({ mode: 'down' });
        assert.equal((await handOff('start')).handedOff, 100);
        assert.equal(await swQueued(tab, 'nosync'), 2);
        const before = (await probe()).started;
        const log = await pageLog(tab);
        const left = Date.now();
        await tab.endServiceWorkers!();
        c.setFault({ mode: 'none' });
        await tab.goto(`${c.url}/fixtures/blank.html`);
        await delivered(c, 'start', 100);
        await until('an empty worker queue', () => swQueued(tab, 'nosync'), (n) => n === 0);
        const after = (await probe()).started;
        assert.ok(after > before && after >= left, `a new worker instance (started ${after}, the old one ${before}, ended at ${left})`);
        const n = [count(c, 'msg'), count(c, 'start')];
        const duplicates = n[0]!.duplicates + n[1]!.duplicates;
        assert.equal(duplicates, 0, 'duplicates');
        assert.deepEqual(log, []);
        await tab.close();
        return { expected: 200, delivered: n[0]!.unique + n[1]!.unique, duplicates };
      }),
  };
}


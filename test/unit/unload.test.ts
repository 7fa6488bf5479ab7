import { describe, expect, it } from 'vitest';
import { makeClient } from '../helpers/make-client';
import type { Storage, StoredEvent } from '../../src/core/types';
import { beforeUnloadGuard, pageSequence, watchLifecycle } from '../../src/platform/lifecycle';
import { KEEPALIVE_BUDGET_BYTES, createUnloadSender, unloadUrl } from '../../src/transport/unload';
import { createKeepaliveBudget } from '../../src/transport/keepalive-budget';
import { createReachability } from '../../src/transport/reachability';
import { attachUnload } from '../../src/platform/leave';
import type { LeaveHooks } from '../../src/core/client';

/**
 * A model of Chromium's unload transports as measured (platform-facts §2): one budget of 65 536 body bytes shared by
 * keepalive fetches and beacons, freed when a response arrives; over it a keepalive fetch rejects later with a
 * TypeError and sendBeacon returns false; fetchLater has its own quota and throws synchronously.
 */
function fakeBrowser(opts: { hostBytes?: number; fetchLater?: boolean } = {}) {
  let used = opts.hostBytes ?? 0;
  let laterUsed = 0;
  const bytes = (s: string) => new TextEncoder().encode(s).length;
  const held: { size: number; resolve: (r: Response) => void; body: string }[] = [];
  const sent: { via: 'keepalive' | 'beacon' | 'fetchLater'; url: string; body: string; ids: string[]; contentType?: string; headers?: Record<string, string> }[] = [];
  const refused = { keepalive: 0, beacon: 0, fetchLater: 0 };
  const ids = (body: string) => (JSON.parse(body) as { batch: { id: string }[] }).batch.map((e) => e.id);
  return {
    sent,
    refused,
    used: () => used,
    fetch(url: string, init: RequestInit): Promise<Response> {
      expect(init.keepalive).toBe(true);
      const body = init.body as string;
      const size = bytes(body);
      if (used + size > KEEPALIVE_BUDGET_BYTES) {
        refused.keepalive++;
        return Promise.reject(new TypeError('Failed to fetch'));
      }
      used += size;
      const headers = init.headers as Record<string, string>;
      sent.push({ via: 'keepalive', url, body, ids: ids(body), contentType: headers['Content-Type'], headers });
      return new Promise((resolve) => held.push({ size, resolve, body }));
    },
    sendBeacon(url: string, body: string): boolean {
      const size = bytes(body);
      if (used + size > KEEPALIVE_BUDGET_BYTES) {
        refused.beacon++;
        return false;
      }
      used += size;
      sent.push({ via: 'beacon', url, body, ids: ids(body) });
      return true;
    },
    fetchLater: opts.fetchLater
      ? (url: string, init: RequestInit) => {
          const size = bytes(init.body as string) + url.length + 100;
          if (laterUsed + size > 65_536) {
            refused.fetchLater++;
            throw new DOMException('exceeds its quota', 'QuotaExceededError');
          }
          laterUsed += size;
          const headers = init.headers as Record<string, string>;
          sent.push({ via: 'fetchLater', url, body: init.body as string, ids: ids(init.body as string), contentType: headers['Content-Type'], headers });
        }
      : null,
    /** Answers every held keepalive fetch (status, body from the ids). */
    async answerAll(answer: (ids: string[]) => Response = () => new Response(null, { status: 200 })) {
      for (const h of held.splice(0)) {
        used -= h.size;
        h.resolve(answer(ids(h.body)));
      }
      for (let i = 0; i < 20; i++) await Promise.resolve();
    },
  };
}

function fakeStorage() {
  const marked = new Map<string, number>();
  const removed: string[] = [];
  const storage: Storage = {
    durable: true,
    append: async () => undefined,
    remove: async (ids) => void removed.push(...ids),
    markSent: async (ids, at) => ids.forEach((id) => marked.set(id, at)),
    recover: async () => [],
    close: async () => undefined,
  };
  return { storage, marked, removed };
}

const QUIET = { flushAt: 10_000, flushInterval: 3600, maxBatchBytes: 4 << 20, publicKey: 'pk-unit' };
const pad = 'x'.repeat(150);

/** The client's hooks as seen with `options.relay` set (the option is not in the core's schema yet). */
function withRelay<H extends LeaveHooks>(hooks: H, relay = 'http://collector.test/api/public/ingestion'): H {
  return { ...hooks, options: { ...hooks.options, relay } };
}

function setup(browserOpts: Parameters<typeof fakeBrowser>[0] & { relay?: boolean; online?: boolean } = {}, options: Record<string, unknown> = {}) {
  const store = fakeStorage();
  const c = makeClient({ ...QUIET, ...options }, { storage: store.storage });
  const browser = fakeBrowser(browserOpts);
  const hooks = browserOpts.relay ? withRelay(c.hooks) : c.hooks;
  const reachability = createReachability(() => browserOpts.online ?? true);
  const deps = (more: Record<string, unknown> = {}) => ({
    storage: store.storage,
    fetch: browser.fetch,
    sendBeacon: browser.sendBeacon,
    fetchLater: browser.fetchLater,
    setTimeout: () => 0,
    budget: createKeepaliveBudget(),
    reachability,
    ...more,
  });
  const sender = createUnloadSender(hooks, deps());
  const track = (n: number, tag = 't') => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push(c.outbox.track('event-create', { tag, i, pad }));
    return ids;
  };
  return { ...c, ...store, browser, sender, track, hooks, deps, reachability };
}

describe('unloadUrl', () => {
  it('adds the public key as ?pk= (or &pk=), and nothing without a key', () => {
    expect(unloadUrl('https://c.test/api/public/ingestion', 'pk-1 2')).toBe('https://c.test/api/public/ingestion?pk=pk-1%202');
    expect(unloadUrl('https://c.test/i?x=1', 'pk')).toBe('https://c.test/i?x=1&pk=pk');
    expect(unloadUrl('https://c.test/i')).toBe('https://c.test/i');
  });
});

describe('createUnloadSender', () => {
  it("sends a queue that fits as one keepalive POST with the wire's URL and headers (Authorization, JSON), marks it sent, and settles it on the answer", async () => {
    const s = setup();
    const ids = s.track(200); // ~60 KB
    const report = s.sender.send();
    expect(report).toMatchObject({ keepalive: 200, beacon: 0, fetchLater: 0, kept: 0, requests: 1 });
    expect(s.browser.sent).toHaveLength(1);
    expect(s.browser.sent[0]!.url).toBe('http://collector.test/api/public/ingestion');
    expect(s.browser.sent[0]!.contentType).toBe('application/json');
    expect(s.browser.sent[0]!.headers!.Authorization).toBe('Bearer pk-unit');
    expect(s.browser.sent[0]!.ids).toEqual(ids);
    expect([...s.marked.keys()].sort()).toEqual([...ids].sort());
    expect(s.sender.inflightBytes()).toBeGreaterThan(55_000);
    await s.browser.answerAll();
    expect(s.sender.inflightBytes()).toBe(0);
    expect(s.outbox.stats()).toMatchObject({ sent: 200, queued: 0, inflight: 0 });
    expect(s.removed.sort()).toEqual([...ids].sort());
    expect(s.transport.batches).toHaveLength(0); // nothing went the normal way
  });

  it('never goes over the budget: 2000 events → keepalive + fetchLater (wire headers) within their quotas, the rest kept queued', async () => {
    const s = setup({ fetchLater: true });
    const ids = s.track(2000); // ~600 KB
    const report = s.sender.send();
    expect(s.browser.refused.keepalive).toBe(0); // our own count kept every keepalive inside the budget
    expect(s.browser.used()).toBeLessThanOrEqual(KEEPALIVE_BUDGET_BYTES);
    const carried = s.browser.sent.flatMap((r) => r.ids);
    expect(new Set(carried).size).toBe(carried.length); // no event in two requests
    expect(report.keepalive + report.fetchLater + report.beacon).toBe(carried.length);
    expect(report.keepalive).toBeGreaterThan(150);
    expect(report.fetchLater).toBeGreaterThan(150);
    expect(report.kept).toBe(2000 - carried.length);
    expect(report.requests).toBeLessThan(10);
    // What was not carried is still queued, in order, and goes out the normal way on the next flush.
    expect(s.outbox.stats().queued).toBe(2000 - carried.length);
    await s.browser.answerAll();
    await s.outbox.flush();
    const normal = s.transport.ids();
    expect(new Set([...carried, ...normal])).toEqual(new Set(ids));
    expect(normal).toEqual(ids.filter((id) => !carried.includes(id)));
    // fetchLater's events have an unknown fate: counted sent, kept in storage (marked) for a later load.
    expect(s.browser.sent.every((r) => r.via !== 'beacon' && r.contentType === 'application/json' && !r.url.includes('pk='))).toBe(true);
    const later = s.browser.sent.filter((r) => r.via === 'fetchLater').flatMap((r) => r.ids);
    expect(later.every((id) => s.marked.has(id) && !s.removed.includes(id))).toBe(true);
    const st = s.outbox.stats();
    expect(st.tracked).toBe(st.sent + st.queued + st.inflight);
  });

  it('toward a relay, sendBeacon (text/plain, ?pk=) false halves the chunk down to one event; what fits nowhere stays queued', () => {
    const s = setup({ hostBytes: 50_000, relay: true }); // the host page holds 50 KB of the budget already
    s.track(100);
    const fetch = (() => {
      throw new TypeError('keepalive unsupported'); // as an old fetch might: leave it all to the beacon
    }) as never;
    const sender = createUnloadSender(s.hooks, s.deps({ fetch, fetchLater: null }));
    const report = sender.send();
    expect(s.browser.sent.every((r) => r.via === 'beacon' && r.url === 'http://collector.test/api/public/ingestion?pk=pk-unit')).toBe(true);
    expect(s.browser.refused.beacon).toBeGreaterThan(0);
    expect(report.beacon).toBeGreaterThan(0);
    expect(report.beacon).toBeLessThan(100);
    expect(s.browser.used()).toBeLessThanOrEqual(KEEPALIVE_BUDGET_BYTES);
    expect(report.kept).toBe(100 - report.beacon);
    expect(s.outbox.stats()).toMatchObject({ sent: report.beacon, queued: 100 - report.beacon });
  });

  it('a keepalive refused later (the host used the budget) puts its events back: retried, not lost', async () => {
    const s = setup({ hostBytes: 40_000 });
    const ids = s.track(100); // ~30 KB: our count says it fits, the browser says no
    const report = s.sender.send();
    expect(report.keepalive).toBe(100);
    await s.browser.answerAll();
    await s.clock.advance(0);
    expect(s.browser.refused.keepalive).toBe(1);
    expect(s.outbox.stats()).toMatchObject({ sent: 0, queued: 100 });
    await s.clock.advance(60_000); // the backoff passes; the normal transport delivers them
    await s.outbox.flush();
    expect(s.transport.ids()).toEqual(ids);
    expect(s.outbox.stats()).toMatchObject({ sent: 100, queued: 0 });
  });

  it('a keepalive 207 answer is settled per event: 5xx ids retried, 4xx ids dropped', async () => {
    const s = setup();
    const ids = s.track(10);
    s.sender.send();
    await s.browser.answerAll(
      (batch) =>
        new Response(
          JSON.stringify({
            successes: batch.slice(2).map((id) => ({ id, status: 201 })),
            errors: [
              { id: batch[0], status: 500, message: 'later' },
              { id: batch[1], status: 400, message: 'bad' },
            ],
          }),
          { status: 207 },
        ),
    );
    expect(s.dropCount('rejected')).toBe(1);
    expect(s.outbox.stats()).toMatchObject({ sent: 8, queued: 1 });
    await s.clock.advance(60_000);
    await s.outbox.flush();
    expect(s.transport.ids()).toEqual([ids[0]]);
  });

  it('under a service worker, the records in flight are marked too (the worker acknowledges them); without one they are not', () => {
    for (const controlled of [true, false]) {
      const s = setup();
      const ids = s.track(3);
      const hooks = { ...s.hooks, inflightIds: () => ['in-flight-1', 'in-flight-2'] };
      createUnloadSender(hooks, s.deps({ controlled: () => controlled })).send();
      const expected = controlled ? [...ids, 'in-flight-1', 'in-flight-2'] : ids;
      expect([...s.marked.keys()].sort()).toEqual(expected.sort());
    }
  });

  it('caps its requests (the browser drops beacons past 256 per page)', () => {
    const s = setup({}, { maxBatchBytes: 1024, maxEventBytes: 1024 }); // ~3 events per request
    s.track(300);
    const sender = createUnloadSender(s.hooks, s.deps({ storage: undefined, fetchLater: null, budget: undefined, maxRequests: 8 }));
    const report = sender.send();
    expect(report.requests).toBe(8);
    expect(s.browser.sent).toHaveLength(8);
    expect(report.kept).toBe(300 - report.keepalive - report.beacon);
  });

  it('a transport that refused is not tried again in the same hide; after reset() it is', () => {
    const s = setup({ hostBytes: KEEPALIVE_BUDGET_BYTES, relay: true }); // the host filled the budget: no beacon fits
    s.track(5);
    s.sender = createUnloadSender(s.hooks, s.deps({ fetch: null as never, fetchLater: null }));
    expect(s.sender.send()).toMatchObject({ requests: 0, kept: 5 });
    const tries = s.browser.refused.beacon;
    expect(s.sender.send()).toMatchObject({ requests: 0, kept: 5 });
    expect(s.browser.refused.beacon).toBe(tries); // not tried again in the same hide
    s.sender.reset();
    s.sender.send();
    expect(s.browser.refused.beacon).toBeGreaterThan(tries);
    expect(s.outbox.stats().queued).toBe(5);
  });

  it('without storage.markSent, beaconed events (toward a relay) are settled and forgotten', () => {
    const c = makeClient(QUIET);
    const browser = fakeBrowser();
    for (let i = 0; i < 3; i++) c.outbox.track('e', { i });
    const sender = createUnloadSender(withRelay(c.hooks), { fetch: null as never, sendBeacon: browser.sendBeacon, fetchLater: null, setTimeout: () => 0, budget: createKeepaliveBudget() });
    expect(sender.send()).toMatchObject({ beacon: 3, requests: 1 });
    expect(c.outbox.stats()).toMatchObject({ sent: 3, queued: 0 });
  });

  it('never beacons without a relay: Langfuse answers every beacon 401', () => {
    const s = setup();
    s.track(20);
    const sender = createUnloadSender(s.hooks, s.deps({ fetch: null as never, fetchLater: null }));
    expect(sender.send()).toMatchObject({ beacon: 0, requests: 0, kept: 20 });
    expect(s.browser.sent).toHaveLength(0);
    expect(s.outbox.stats()).toMatchObject({ sent: 0, queued: 20 });
  });

  it('hands records to the network one request at a time: at the first request the rest are still queued', () => {
    const s = setup({}, { maxBatchBytes: 8 * 1024, maxEventBytes: 1024 });
    s.track(200); // ~60 KB: several requests of at most 8 KiB
    const queuedAtCall: number[] = [];
    const fetch = (url: string, init: RequestInit) => {
      queuedAtCall.push(s.outbox.stats().queued);
      return s.browser.fetch(url, init);
    };
    const report = createUnloadSender(s.hooks, s.deps({ fetch })).send();
    expect(report.requests).toBeGreaterThan(3);
    const first = JSON.parse(s.browser.sent[0]!.body).batch.length as number;
    expect(queuedAtCall[0]).toBe(200 - first); // not drained before the first request
  });

  it('after a network error: nothing is marked sent, no fetchLater/beacon; the keepalive is still tried', async () => {
    const s = setup({ fetchLater: true, relay: true, online: true });
    s.reachability.note({ kind: 'retry', network: true, error: 'network error: Failed to fetch' });
    s.track(300); // ~90 KB: more than the keepalive budget
    const report = s.sender.send();
    expect(report.fetchLater + report.beacon).toBe(0);
    expect(report.keepalive).toBeGreaterThan(0);
    expect(s.marked.size).toBe(0);
    expect(s.outbox.stats()).toMatchObject({ sent: 0, queued: 300 - report.keepalive });
  });

  it('offline (navigator.onLine false): no request at all, nothing marked, everything stays queued for the next load', () => {
    const s = setup({ fetchLater: true, relay: true, online: false });
    s.track(300);
    const report = s.sender.send();
    expect(report).toEqual({ keepalive: 0, fetchLater: 0, beacon: 0, kept: 300, requests: 0 });
    expect(s.browser.sent.length).toBe(0);
    expect(s.marked.size).toBe(0);
    expect(s.outbox.stats()).toMatchObject({ sent: 0, queued: 300 });
  });

  it('unanswered(): the records of keepalives whose answer is not seen yet (the pagehide spill adds them)', async () => {
    const s = setup();
    const ids = s.track(50);
    const report = s.sender.send();
    expect(report.keepalive).toBe(50);
    expect(s.outbox.stats().queued).toBe(0);
    expect(s.sender.unanswered().map((e) => e.id)).toEqual(ids);
    // Each with when it went, so the spill keeps it marked sent (platform/spill.ts).
    for (const e of s.sender.unanswered()) expect(e.sentAt).toBeTypeOf('number');
    await s.browser.answerAll();
    expect(s.sender.unanswered()).toEqual([]);
  });

  it('shares the budget with normal sends: bytes a normal keepalive send holds are not offered to the unload path', () => {
    const budget = createKeepaliveBudget();
    const releaseNormal = budget.reserveForSend(40_000)!;
    expect(releaseNormal).toBeTypeOf('function');
    expect(budget.reserveForSend(10_000)).toBeUndefined(); // normal sends leave the unload reserve free
    const s = setup();
    s.track(200);
    const report = createUnloadSender(s.hooks, s.deps({ budget })).send();
    expect(budget.inflight()).toBeLessThanOrEqual(KEEPALIVE_BUDGET_BYTES);
    expect(report.keepalive).toBeGreaterThan(0);
    expect(report.keepalive).toBeLessThan(200);
    expect(s.browser.used()).toBeLessThanOrEqual(KEEPALIVE_BUDGET_BYTES - 40_000);
    releaseNormal();
  });
});

describe('lifecycle', () => {
  function targets() {
    const listeners: { target: string; type: string }[] = [];
    const handlers = new Map<string, (e: Event) => void>();
    const make = (name: string) => ({
      addEventListener: (type: string, fn: (e: Event) => void) => {
        listeners.push({ target: name, type });
        handlers.set(`${name}:${type}`, fn);
      },
      removeEventListener: (type: string) => void handlers.delete(`${name}:${type}`),
    });
    const doc = { ...make('document'), visibilityState: 'visible' as DocumentVisibilityState };
    const fire = (key: string, props: Record<string, unknown> = {}) => handlers.get(key)?.(Object.assign(new Event(key), props));
    return { listeners, handlers, doc, win: make('window'), fire };
  }

  it('listens for visibilitychange on document and pagehide/pageshow on window, never unload/beforeunload', () => {
    const t = targets();
    const seen: string[] = [];
    const detach = watchLifecycle(
      { onHide: (e) => seen.push(`hide:${e.via}`), onShow: (e) => seen.push(`show:${e.restored}`) },
      { window: t.win as never, document: t.doc as never },
    );
    expect(t.listeners).toEqual([
      { target: 'document', type: 'visibilitychange' },
      { target: 'window', type: 'pagehide' },
      { target: 'window', type: 'pageshow' },
    ]);
    t.fire('window:pagehide', { persisted: false });
    t.doc.visibilityState = 'hidden';
    t.fire('document:visibilitychange');
    t.fire('window:pageshow', { persisted: false }); // a first load: ignored
    t.doc.visibilityState = 'visible';
    t.fire('document:visibilitychange');
    t.fire('window:pageshow', { persisted: true });
    expect(seen).toEqual(['hide:pagehide', 'hide:visibilitychange', 'show:false', 'show:true']);
    detach();
    expect(t.handlers.size).toBe(0);
  });

  it('pagehide: the spill (localStorage, synchronous) comes before the unload send; a visibilitychange only sends', () => {
    const order: string[] = [];
    const seq = pageSequence({
      endOpen: () => order.push('endOpen'),
      spill: () => order.push('spill'),
      unload: (via) => order.push(`unload:${via}`),
      flushWrites: () => order.push('flushWrites'),
      park: () => order.push('park'),
    });
    seq.onHide({ via: 'pagehide', persisted: false });
    expect(order).toEqual(['endOpen', 'spill', 'unload:pagehide', 'flushWrites']);
    order.length = 0;
    seq.onHide({ via: 'pagehide', persisted: true });
    expect(order).toEqual(['spill', 'unload:pagehide', 'flushWrites', 'park']);
    order.length = 0;
    seq.onHide({ via: 'visibilitychange', persisted: false });
    expect(order).toEqual(['unload:visibilitychange', 'flushWrites']);
  });

  it('beforeUnloadGuard: a beforeunload listener only while armed, never asking the user to stay', () => {
    const t = targets();
    let left = 0;
    const guard = beforeUnloadGuard(() => void left++, t.win as never);
    expect(t.listeners).toEqual([]);
    guard.arm();
    guard.arm(); // once
    expect(t.listeners).toEqual([{ target: 'window', type: 'beforeunload' }]);
    const event = new Event('beforeunload', { cancelable: true });
    t.handlers.get('window:beforeunload')!(event);
    expect(left).toBe(1);
    expect(event.defaultPrevented).toBe(false);
    guard.disarm();
    expect(t.handlers.size).toBe(0);
    guard.disarm(); // idempotent
    guard.arm();
    expect(t.handlers.has('window:beforeunload')).toBe(true);
  });

  it('attachUnload: pagehide sends once, the following visibilitychange adds nothing, a bfcache restore kicks the normal transport', async () => {
    const t = targets();
    const c = makeClient(QUIET);
    const browser = fakeBrowser();
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push(c.outbox.track('e', { i, pad }));
    const detach = attachUnload(c.hooks, undefined, {
      fetch: browser.fetch,
      sendBeacon: browser.sendBeacon,
      fetchLater: null,
      setTimeout: () => 0,
      budgetBytes: 3000, // room for a few events only
      reachability: createReachability(() => true),
      targets: { window: t.win as never, document: t.doc as never },
    });
    t.fire('window:pagehide', { persisted: true });
    const afterHide = browser.sent.length;
    expect(afterHide).toBeGreaterThan(0);
    t.doc.visibilityState = 'hidden';
    t.fire('document:visibilitychange');
    expect(browser.sent.length).toBe(afterHide);
    const carried = new Set(browser.sent.flatMap((r) => r.ids));
    await browser.answerAll();
    t.fire('window:pageshow', { persisted: true });
    await c.clock.advance(0);
    expect(c.transport.ids()).toEqual(ids.filter((id) => !carried.has(id)));
    expect(c.outbox.stats()).toMatchObject({ sent: 50, queued: 0, inflight: 0 });
    detach();
    expect(t.handlers.size).toBe(0);
  });
});

export type { StoredEvent };

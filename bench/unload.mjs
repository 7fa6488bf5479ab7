// Unload cost: the main-thread time of Outbox's pagehide path with 2 000 events queued (IndexedDB on). Each run is
// a fresh page (the path runs once per page, so it runs cold, as it does for real): 2 000 track() calls held back
// (flushAt and maxBatchEvents 10 000, maxBatchBytes 16 MiB, flushInterval 3600 s: no batch is due), their IndexedDB write settled, then performance.now() around
// window.dispatchEvent(new PageTransitionEvent('pagehide')) — the listener's own duration — and until the next
// macrotask (the microtasks it queued too). What went out: the client's requests, and what the collector stored
// within 5 s (keepalive fetch / beacon bodies fit a 64 KiB budget; the rest stays stored for the next load).
import { openPage } from './browser.mjs';
import { summarize } from './stats.mjs';

/**
 * @param {import('@playwright/test').Browser} browser
 * @param {import('../demo/collector/server.mjs').Collector} collector a v3 collector (span-create events, ?pk= beacons)
 */
export async function measureUnload(browser, collector, { queued = 2000, runs = 5 } = {}) {
  const list = [];
  const errors = [];
  for (let r = 0; r < runs; r++) {
    collector.reset();
    const { page, errors: pageErrors, context } = await openPage(browser, collector);
    try {
      const res = await page.evaluate(async (queued) => {
        const c = window.__ob.createOutbox({ endpoint: '/api/public/ingestion', publicKey: 'pk-bench', flushAt: 10_000, maxBatchEvents: 10_000, maxBatchBytes: 16 * 2 ** 20, flushInterval: 3600 });
        const store = window.__ob.durableStorageOf?.(c);
        const channel = new MessageChannel();
        const macrotask = () => new Promise((resolve) => {
          channel.port1.onmessage = resolve;
          channel.port2.postMessage(0);
        });
        for (let i = 0; i < queued; i++) c.track('span-create', window.__payload(i));
        await macrotask();
        if (store) await store.flushWrites();
        const before = c.stats();
        const t0 = performance.now();
        window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }));
        const handlerMs = performance.now() - t0;
        await macrotask();
        const untilNextTaskMs = performance.now() - t0;
        const after = c.stats();
        return { handlerMs, untilNextTaskMs, durable: Boolean(store), queuedBefore: before.queued, requests: after.requests - before.requests };
      }, queued);
      const stored = await collector.waitFor((c) => c.stats().eventsStored >= queued && c.stats().eventsStored, 5000).catch(() => collector.stats().eventsStored);
      list.push({ ...res, stored, collectorRequests: collector.requests().length, auth: [...new Set(collector.requests().map((x) => `${x.auth} ${x.contentType}`))] });
      errors.push(...pageErrors);
    } finally {
      await context.close();
    }
  }
  return {
    queued,
    indexedDbActive: list.every((x) => x.durable),
    queuedBefore: summarize(list.map((x) => x.queuedBefore)),
    handlerMs: summarize(list.map((x) => x.handlerMs)),
    untilNextTaskMs: summarize(list.map((x) => x.untilNextTaskMs)),
    requests: summarize(list.map((x) => x.requests)),
    collectorRequests: summarize(list.map((x) => x.collectorRequests)),
    requestKinds: [...new Set(list.flatMap((x) => x.auth))],
    deliveredWithin5s: summarize(list.map((x) => x.stored)),
    pageErrors: errors,
  };
}

// Unload cost: the main-thread time of Outbox's pagehide path with 2 000 events queued (IndexedDB on). Each run is
// a fresh page (the path runs once per page, so it runs cold, as it does for real): 2 000 track() calls held back
// (flushAt and maxBatchEvents 10 000, maxBatchBytes 16 MiB, flushInterval 3600 s: no batch is due), their IndexedDB
// write settled, then performance.now() around window.dispatchEvent(new PageTransitionEvent('pagehide')) — the
// listener's own duration — and until the next macrotask (the microtasks it queued too); and the main thread's CPU
// time (CDP ThreadTime) around the evaluate that dispatches, which a busy machine does not inflate as it inflates
// wall time. What went out: the client's requests, and what the collector stored within 5 s (keepalive fetch and
// beacon bodies fit a 64 KiB budget; the rest stays stored for the next load — but this page stays alive). Before
// that, on the same page, one sent-mark of 222 of the stored records (storage.markSent): its synchronous cost per
// record (performance.now() is clamped to 0.1 ms steps here) and the time until it is stored.
import { mainThread, openPage } from './browser.mjs';
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
    const { page, cdp, errors: pageErrors, context } = await openPage(browser, collector);
    try {
      const mark = await page.evaluate(async (queued) => {
        const c = window.__ob.createOutbox({ endpoint: '/api/public/ingestion', publicKey: 'pk-bench', flushAt: 10_000, maxBatchEvents: 10_000, maxBatchBytes: 16 * 2 ** 20, flushInterval: 3600 });
        const store = window.__ob.durableStorageOf?.(c);
        const channel = new MessageChannel();
        window.__macrotask = () => new Promise((resolve) => {
          channel.port1.onmessage = resolve;
          channel.port2.postMessage(0);
        });
        window.__client = c;
        window.__store = store;
        const ids = [];
        for (let i = 0; i < queued; i++) ids.push(c.track('span-create', window.__payload(i)));
        await window.__macrotask();
        if (store) await store.flushWrites();
        // The sent-mark of one keepalive's worth (222 records of this size), as the unload path makes it: the
        // synchronous part (what a leaving page must finish), then until it is stored (settled).
        if (!store?.markSent) return null;
        // As in the page's leave sequence, where the spill step has touched localStorage before the unload send:
        // a page's first localStorage write costs Chromium 0–18 ms here (measured by hand, load 16), paid once.
        localStorage.removeItem('outbox:spill:bench');
        const t0 = performance.now();
        const marking = store.markSent(ids.slice(0, 222), Date.now());
        const markSyncMs = performance.now() - t0;
        await marking;
        return { markSyncMs, markSettledMs: performance.now() - t0 };
      }, queued);
      const m0 = await mainThread(cdp);
      const res = await page.evaluate(async () => {
        const c = window.__client;
        const before = c.stats();
        const t0 = performance.now();
        window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }));
        const handlerMs = performance.now() - t0;
        await window.__macrotask();
        const untilNextTaskMs = performance.now() - t0;
        const after = c.stats();
        return { handlerMs, untilNextTaskMs, durable: Boolean(window.__store), queuedBefore: before.queued, requests: after.requests - before.requests };
      });
      const m1 = await mainThread(cdp);
      res.cpuMs = m1.cpu - m0.cpu;
      const stored = await collector.waitFor((c) => c.stats().eventsStored >= queued && c.stats().eventsStored, 5000).catch(() => collector.stats().eventsStored);
      list.push({ ...res, ...mark, stored, collectorRequests: collector.requests().length, auth: [...new Set(collector.requests().map((x) => `${x.auth} ${x.contentType}`))] });
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
    mainThreadCpuMs: summarize(list.map((x) => x.cpuMs)),
    requests: summarize(list.map((x) => x.requests)),
    collectorRequests: summarize(list.map((x) => x.collectorRequests)),
    requestKinds: [...new Set(list.flatMap((x) => x.auth))],
    deliveredWithin5s: summarize(list.map((x) => x.stored)),
    markUsPerRecord: list.every((x) => x.markSyncMs !== undefined) ? summarize(list.map((x) => (x.markSyncMs * 1000) / 222)) : null,
    markSettledMs: list.every((x) => x.markSettledMs !== undefined) ? summarize(list.map((x) => x.markSettledMs)) : null,
    pageErrors: errors,
  };
}

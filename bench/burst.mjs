// The burst: 10 000 track() calls in chunks of 250, one macrotask between chunks, in real Chromium with IndexedDB
// on and Outbox's defaults (flushAt 15, maxBatchEvents 500), next to the 40-line naive batcher (50 events / 1 s,
// bench/naive-batcher.js) in the same page session. Runs alternate between the two, so load drift hits both.
//
// - blocking µs/event: per chunk, performance.now() from before the first track() to the start of the next
//   macrotask (a MessageChannel message posted after the loop): the calls plus every microtask they queued (Outbox
//   seals and writes at the end of the task in a microtask). Other tasks that run in between are counted too, so
//   this is an upper bound.
// - main-thread µs/event until delivered: CDP Performance.getMetrics `TaskDuration` (wall time the renderer's main
//   thread spent inside tasks) before the first chunk and after the client reports every event acknowledged (for
//   Outbox also after its IndexedDB writes settle); `ThreadTime` (main-thread CPU) beside it.
// - requests and delivered: the collector's log and store (reset before each run); time: first track() → all acked.
import { openPage, mainThread } from './browser.mjs';
import { summarize } from './stats.mjs';

/** In the page: the burst against window.__client; returns per-chunk blocking and the time until all acked. */
async function burstInPage(page, { n, chunk, waitMs }) {
  return page.evaluate(
    async ({ n, chunk, waitMs }) => {
      const c = window.__client;
      const bodies = Array.from({ length: n }, (_, i) => window.__payload(i));
      const channel = new MessageChannel();
      const macrotask = () => new Promise((resolve) => {
        channel.port1.onmessage = resolve;
        channel.port2.postMessage(0);
      });
      await macrotask();
      const sent0 = c.stats().sent;
      let syncMs = 0;
      let blockingMs = 0;
      let worstChunkMs = 0;
      const t0 = performance.now();
      for (let i = 0; i < n; i += chunk) {
        const a = performance.now();
        const end = Math.min(n, i + chunk);
        for (let j = i; j < end; j++) c.track('span-create', bodies[j]);
        syncMs += performance.now() - a;
        await macrotask();
        const took = performance.now() - a;
        blockingMs += took;
        worstChunkMs = Math.max(worstChunkMs, took);
      }
      const deadline = performance.now() + waitMs;
      while (c.stats().sent - sent0 < n && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const deliveredMs = performance.now() - t0;
      if (window.__store) await window.__store.flushWrites();
      return { syncMs, blockingMs, worstChunkMs, deliveredMs, acked: c.stats().sent - sent0 };
    },
    { n, chunk, waitMs },
  );
}

/**
 * @param {import('@playwright/test').Browser} browser
 * @param {import('../demo/collector/server.mjs').Collector} collector a v3 collector (it takes span-create events)
 */
export async function measureBurst(browser, collector, { n = 10_000, chunk = 250, runs = 5, waitMs = 120_000 } = {}) {
  const { page, cdp, errors, context } = await openPage(browser, collector);
  try {
    const idb = await page.evaluate(async () => {
      const { createNaiveBatcher } = await import('/bench/naive-batcher.js');
      window.__clients = {
        outbox: window.__ob.createOutbox({ endpoint: '/api/public/ingestion', publicKey: 'pk-bench' }), // IndexedDB, defaults
        naive: createNaiveBatcher({ endpoint: '/api/public/ingestion', publicKey: 'pk-bench' }),
      };
      window.__outboxStore = window.__ob.durableStorageOf?.(window.__clients.outbox);
      return Boolean(window.__outboxStore);
    });
    const per = { outbox: [], naive: [] };
    for (let r = 0; r <= runs; r++) {
      for (const name of r % 2 ? ['naive', 'outbox'] : ['outbox', 'naive']) {
        await page.evaluate((name) => {
          window.__client = window.__clients[name];
          window.__store = name === 'outbox' ? window.__outboxStore : undefined;
        }, name);
        collector.reset();
        const m0 = await mainThread(cdp);
        const b = await burstInPage(page, { n, chunk, waitMs });
        const m1 = await mainThread(cdp);
        await collector.waitFor((c) => c.stats().eventsStored >= b.acked, 10_000).catch(() => undefined);
        const s = collector.stats();
        if (r === 0) continue; // warm-up: JIT, the IndexedDB open, connections
        per[name].push({ ...b, taskMs: m1.task - m0.task, cpuMs: m1.cpu - m0.cpu, requests: s.requests, delivered: s.eventsStored });
      }
    }
    await page.evaluate(() => window.__clients.outbox.shutdown());
    const summary = (list) => ({
      events: n,
      chunk,
      syncUsPerEvent: summarize(list.map((x) => (x.syncMs * 1000) / n)),
      blockingUsPerEvent: summarize(list.map((x) => (x.blockingMs * 1000) / n)),
      worstChunkMs: summarize(list.map((x) => x.worstChunkMs)),
      mainThreadTaskUsPerEvent: summarize(list.map((x) => (x.taskMs * 1000) / n)),
      mainThreadCpuUsPerEvent: summarize(list.map((x) => (x.cpuMs * 1000) / n)),
      requests: summarize(list.map((x) => x.requests)),
      delivered: summarize(list.map((x) => x.delivered)),
      deliveredMs: summarize(list.map((x) => x.deliveredMs)),
    });
    return { indexedDbActive: idb, outbox: summary(per.outbox), naive: summary(per.naive), raw: per, pageErrors: errors };
  } finally {
    await context.close();
  }
}

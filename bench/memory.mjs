// Memory: the page's JS heap (performance.memory.usedJSHeapSize, precise with --enable-precise-memory-info) after a
// forced GC (CDP HeapProfiler.collectGarbage, twice), with 10 000 events held and after they drained, over 10
// bursts in one page: a leak shows as drained heap growing burst after burst. Defaults (IndexedDB, flushAt 15,
// maxBatchEvents 500) would send a burst while it is tracked, so the collector answers slowly (fault 'slow', 3 s)
// while the burst is tracked and the heap read: the 10 000 are then held queued or in flight, as behind a slow
// server. Then the fault is lifted and the client drains.
import { openPage } from './browser.mjs';
import { summarize } from './stats.mjs';

async function heapAfterGc(page, cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('HeapProfiler.collectGarbage');
  return page.evaluate(() => performance.memory.usedJSHeapSize);
}

/**
 * @param {import('@playwright/test').Browser} browser
 * @param {import('../demo/collector/server.mjs').Collector} collector a v3 collector
 */
export async function measureMemory(browser, collector, { n = 10_000, bursts = 10 } = {}) {
  const { page, cdp, errors, context } = await openPage(browser, collector);
  try {
    const durable = await page.evaluate(() => {
      window.__client = window.__ob.createOutbox({ endpoint: '/api/public/ingestion', publicKey: 'pk-bench' }); // IndexedDB, defaults
      window.__store = window.__ob.durableStorageOf?.(window.__client);
      return Boolean(window.__store);
    });
    const baseline = await heapAfterGc(page, cdp);
    const queuedMB = [];
    const drainedMB = [];
    const held = [];
    for (let b = 0; b < bursts; b++) {
      collector.reset();
      collector.setFault({ mode: 'slow', delayMs: 3000 });
      held.push(
        await page.evaluate(async (n) => {
          const c = window.__client;
          const channel = new MessageChannel();
          const macrotask = () => new Promise((resolve) => {
            channel.port1.onmessage = resolve;
            channel.port2.postMessage(0);
          });
          for (let i = 0; i < n; i += 250) {
            for (let j = i; j < Math.min(n, i + 250); j++) c.track('span-create', window.__payload(j));
            await macrotask();
          }
          if (window.__store) await window.__store.flushWrites();
          const s = c.stats();
          return s.queued + s.inflight;
        }, n),
      );
      queuedMB.push((await heapAfterGc(page, cdp)) / 2 ** 20);
      collector.setFault({ mode: 'none' });
      await page.evaluate(async () => {
        const c = window.__client;
        await c.flush();
        for (let k = 0; k < 3000 && (c.stats().queued > 0 || c.stats().inflight > 0); k++) await new Promise((r) => setTimeout(r, 20));
        if (window.__store) await window.__store.flushWrites();
      });
      drainedMB.push((await heapAfterGc(page, cdp)) / 2 ** 20);
    }
    const stats = await page.evaluate(() => window.__client.stats());
    await page.evaluate(() => window.__client.shutdown());
    return {
      events: n,
      bursts,
      indexedDbActive: durable,
      baselineMB: baseline / 2 ** 20,
      queuedHeld: summarize(held),
      queuedMB: summarize(queuedMB),
      drainedMB: summarize(drainedMB),
      perBurst: { queuedMB, drainedMB },
      drainedGrowthMB: drainedMB[drainedMB.length - 1] - drainedMB[0],
      sent: stats.sent,
      dropped: stats.dropped,
      pageErrors: errors,
    };
  } finally {
    await context.close();
  }
}

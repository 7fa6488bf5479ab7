// The in-browser measurements: track() cost (sync loop and total main-thread time), IndexedDB write transactions,
// sustained throughput, wire requests/bytes, and the naive fetch-per-event reference. Real Chromium, the built
// dist/outbox.browser.js, the real collector on 127.0.0.1.
import { gunzipSync, gzipSync } from 'node:zlib';
import { summarize } from './stats.mjs';

/** A body of exactly `bytes` bytes of JSON, with varied (not trivially compressible) text, deterministic per i. */
export function payloadSource() {
  return function payload(i, bytes = 100) {
    let seed = (i * 2654435761) >>> 0;
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ';
    const head = { name: 'checkout', step: i % 7, user: `u-${i % 97}`, note: '' };
    let room = bytes - JSON.stringify(head).length;
    let note = '';
    while (room-- > 0) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      note += alphabet[(seed >>> 8) % alphabet.length];
    }
    head.note = note;
    return head;
  };
}

/**
 * The renderer main thread's time so far, in ms: `cpu` is its CPU time (CDP Performance.ThreadTime, robust to
 * other processes competing for the cores), `task` the wall time spent inside tasks (TaskDuration).
 */
export async function mainThread(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const get = (name) => metrics.find((m) => m.name === name).value * 1000;
  return { cpu: get('ThreadTime'), task: get('TaskDuration') };
}

/**
 * Opens the bench page with the bundle loaded as `window.__ob` and the payload helper as `window.__payload`.
 * @returns {Promise<{ page: import('@playwright/test').Page, cdp: any, errors: string[] }>}
 */
export async function openPage(browser, collector) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${collector.url}/bench/page.html`);
  await page.evaluate(async (src) => {
    window.__ob = await import('/dist/testing/outbox.browser.js');
    window.__payload = (0, eval)(`(${src})`)();
  }, payloadSource.toString());
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  return { page, cdp, errors, context };
}

/** In the page: create a client, kept as window.__client. Returns whether IndexedDB is really in use. */
async function createClient(page, options) {
  return page.evaluate((o) => {
    window.__client = window.__ob.createOutbox({ endpoint: '/api/public/ingestion', publicKey: 'pk-bench', ...o });
    window.__store = window.__ob.durableStorageOf?.(window.__client);
    return { durable: Boolean(window.__store), hasTransactions: typeof window.__store?.transactions === 'number' };
  }, options);
}

/**
 * In the page: a burst of n track() calls in one task; returns the sync loop time. Then waits (outside the
 * measured loop) until every event is acknowledged and storage writes are done.
 */
async function burst(page, n) {
  return page.evaluate(async (n) => {
    const c = window.__client;
    const store = window.__store;
    const bodies = Array.from({ length: n }, (_, i) => window.__payload(i));
    const before = c.stats();
    const tx0 = store?.transactions ?? 0;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) c.track('span-create', bodies[i]);
    const syncMs = performance.now() - t0;
    const target = before.sent + n;
    for (;;) {
      const s = c.stats();
      const dropped = Object.values(s.dropped).reduce((a, b) => a + b, 0) - Object.values(before.dropped).reduce((a, b) => a + b, 0);
      if (s.sent + dropped >= target && s.queued === 0 && s.inflight === 0) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    if (store) await store.flushWrites();
    const s = c.stats();
    return {
      syncMs,
      wallMs: performance.now() - t0,
      sent: s.sent - before.sent,
      dropped: Object.values(s.dropped).reduce((a, b) => a + b, 0) - Object.values(before.dropped).reduce((a, b) => a + b, 0),
      transactions: store ? store.transactions - tx0 : null,
    };
  }, n);
}

/**
 * track() cost for one storage mode: a warm-up burst, then `runs` measured bursts of n events.
 * @returns {Promise<object>}
 */
export async function measureTrackCost(browser, collector, { storage, flushAt, n = 10_000, runs = 5 }) {
  const { page, cdp, errors, context } = await openPage(browser, collector);
  try {
    const mode = await createClient(page, flushAt ? { storage, flushAt } : { storage });
    await burst(page, n); // warm-up: JIT, IndexedDB open, connections
    const sync = [];
    const total = [];
    const task = [];
    const tx = [];
    const wall = [];
    let lost = 0;
    for (let r = 0; r < runs; r++) {
      const m0 = await mainThread(cdp);
      const b = await burst(page, n);
      const m1 = await mainThread(cdp);
      sync.push((b.syncMs * 1000) / n);
      total.push(((m1.cpu - m0.cpu) * 1000) / n);
      task.push(((m1.task - m0.task) * 1000) / n);
      wall.push(b.wallMs);
      if (b.transactions !== null) tx.push(b.transactions);
      lost += n - b.sent;
    }
    await page.evaluate(() => window.__client.shutdown());
    return {
      storage,
      flushAt: flushAt ?? 15,
      indexedDbActive: mode.durable,
      events: n,
      syncUsPerEvent: summarize(sync),
      totalMainThreadUsPerEvent: summarize(total),
      totalMainThreadTaskWallUsPerEvent: summarize(task),
      wallMsPerBurst: summarize(wall),
      idbWriteTransactionsPerBurst: tx.length ? summarize(tx) : null,
      notDelivered: lost,
      pageErrors: errors,
    };
  } finally {
    await context.close();
  }
}

/**
 * Sustained load: `total` events produced in bursts of `chunk` per macrotask (MessageChannel), with the default
 * maxQueueEvents. `paced` producers track only what fits under the bound (stats()-driven backpressure); blind
 * producers track regardless and the overflow is dropped 'queue-full' (counted, reported).
 */
export async function measureSustained(browser, collector, { storage, total = Number(process.env.BENCH_SUSTAINED ?? 30_000), chunk = 1000, paced, runs = 5 }) {
  const { page, errors, context } = await openPage(browser, collector);
  try {
    const mode = await createClient(page, { storage });
    const results = [];
    for (let r = 0; r < runs + 1; r++) {
      const res = await page.evaluate(
        async ({ total, chunk, paced }) => {
          const c = window.__client;
          const bound = 10_000; // the default maxQueueEvents
          const before = c.stats();
          const dropped0 = Object.values(before.dropped).reduce((a, b) => a + b, 0);
          const body = window.__payload(1);
          const channel = new MessageChannel();
          const macrotask = () => new Promise((resolve) => {
            channel.port1.onmessage = resolve;
            channel.port2.postMessage(0);
          });
          let produced = 0;
          let peakHeld = 0;
          let peakHeap = 0;
          let tasks = 0;
          const sample = () => {
            const s = c.stats();
            peakHeld = Math.max(peakHeld, s.queued + s.inflight);
            peakHeap = Math.max(peakHeap, performance.memory?.usedJSHeapSize ?? 0);
          };
          const t0 = performance.now();
          while (produced < total) {
            let n = Math.min(chunk, total - produced);
            if (paced) {
              const s = c.stats();
              n = Math.min(n, bound - s.queued - s.inflight);
            }
            for (let i = 0; i < n; i++) c.track('span-create', body);
            produced += Math.max(0, n);
            tasks++;
            sample();
            await macrotask();
          }
          const producedMs = performance.now() - t0;
          for (;;) {
            sample();
            const s = c.stats();
            if (s.queued === 0 && s.inflight === 0) break;
            await new Promise((r) => setTimeout(r, 5));
          }
          const doneMs = performance.now() - t0;
          const s = c.stats();
          const dropped = Object.values(s.dropped).reduce((a, b) => a + b, 0) - dropped0;
          return {
            produced,
            sent: s.sent - before.sent,
            dropped,
            droppedByReason: Object.fromEntries(Object.entries(s.dropped).map(([k, v]) => [k, v - before.dropped[k]]).filter(([, v]) => v > 0)),
            requests: s.requests - before.requests,
            producedMs,
            doneMs,
            peakHeld,
            peakHeapBytes: peakHeap,
            tasks,
          };
        },
        { total, chunk, paced },
      );
      if (r > 0) results.push(res); // the first run warms up
    }
    await page.evaluate(() => window.__client.shutdown());
    return {
      storage,
      indexedDbActive: mode.durable,
      producer: paced ? `paced (≤ ${chunk}/macrotask, within maxQueueEvents)` : `blind (${chunk}/macrotask)`,
      events: total,
      deliveredPerSecond: summarize(results.map((x) => (x.sent * 1000) / x.doneMs)),
      producedPerSecond: summarize(results.map((x) => (x.produced * 1000) / x.producedMs)),
      peakHeapMB: summarize(results.map((x) => x.peakHeapBytes / 1024 / 1024)),
      peakQueued: Math.max(...results.map((x) => x.peakHeld)),
      queueBound: 10_000,
      lostPerRun: results.map((x) => x.produced - x.sent),
      droppedByReason: results.map((x) => x.droppedByReason),
      requestsPerRun: summarize(results.map((x) => x.requests)),
      pageErrors: errors,
    };
  } finally {
    await context.close();
  }
}

/**
 * Requests and bytes for `n` events with 100-byte payloads at the defaults, per compression mode. They are tracked
 * in one task, so they go out in batches of maxBatchEvents (500), not of flushAt. Bodies are captured in the page
 * (a pass-through wrapper of fetch) so the exact same JSON can be gzipped at level 9 in Node.
 */
export async function measureWire(browser, collector, { n = 1000 } = {}) {
  const out = {};
  for (const compression of ['none', 'gzip']) {
    collector.reset();
    const { page, errors, context } = await openPage(browser, collector);
    try {
      const captured = await page.evaluate(
        async ({ n, compression }) => {
          const bodies = [];
          const realFetch = window.fetch.bind(window);
          window.fetch = (url, init) => {
            const b = init?.body;
            bodies.push(typeof b === 'string' ? { text: b } : { bytes: Array.from(new Uint8Array(b)) });
            return realFetch(url, init);
          };
          const c = window.__ob.createOutbox({ endpoint: '/api/public/ingestion', publicKey: 'pk-bench', compression, storage: 'memory' });
          for (let i = 0; i < n; i++) c.track('span-create', window.__payload(i, 100));
          await c.flush();
          await c.shutdown();
          window.fetch = realFetch;
          return { bodies, stats: c.stats() };
        },
        { n, compression },
      );
      await collector.waitFor((c) => c.stats().eventsStored === n, 30_000);
      const log = collector.requests();
      const json = captured.bodies.map((b) => (b.text !== undefined ? b.text : gunzipSync(Buffer.from(b.bytes)).toString('utf8')));
      const wireBytes = log.reduce((a, r) => a + r.bytes, 0);
      const jsonBytes = json.reduce((a, t) => a + Buffer.byteLength(t), 0);
      const gzip9Bytes = json.reduce((a, t) => a + gzipSync(t, { level: 9 }).length, 0);
      out[compression] = {
        events: n,
        requests: log.length,
        expectedRequests: Math.ceil(n / 500), // tracked in one task: cut into batches of maxBatchEvents (500)
        contentEncodings: [...new Set(log.map((r) => r.contentEncoding))],
        bytesPerEvent: wireBytes / n,
        jsonBytesPerEvent: jsonBytes / n,
        gzip9BytesPerEvent: gzip9Bytes / n,
        ratioToGzip9: wireBytes / gzip9Bytes,
        pageErrors: errors,
      };
    } finally {
      await context.close();
    }
  }
  return out;
}

/**
 * The naive reference: one fetch per event (a Langfuse envelope of one), to the same collector. Measures the
 * sync loop, the main-thread total until every response is in, and events/s delivered.
 */
export async function measureNaive(browser, collector, { n = 2000, runs = 5 } = {}) {
  const { page, cdp, errors, context } = await openPage(browser, collector);
  try {
    const sync = [];
    const total = [];
    const task = [];
    const rate = [];
    let bytes = 0;
    for (let r = 0; r < runs + 1; r++) {
      collector.reset();
      const m0 = await mainThread(cdp);
      const res = await page.evaluate(async (n) => {
        const pending = [];
        const t0 = performance.now();
        for (let i = 0; i < n; i++) {
          const body = JSON.stringify({
            batch: [{ id: crypto.randomUUID(), type: 'span-create', timestamp: new Date().toISOString(), body: window.__payload(i, 100) }],
            metadata: { sdk_name: 'naive', batch_size: 1 },
          });
          pending.push(fetch('/api/public/ingestion', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer pk-bench' }, body }).then((x) => x.arrayBuffer()));
        }
        const syncMs = performance.now() - t0;
        const settled = await Promise.allSettled(pending);
        return { syncMs, doneMs: performance.now() - t0, ok: settled.filter((s) => s.status === 'fulfilled').length };
      }, n);
      const m1 = await mainThread(cdp);
      if (r === 0) continue; // warm-up
      sync.push((res.syncMs * 1000) / n);
      total.push(((m1.cpu - m0.cpu) * 1000) / n);
      task.push(((m1.task - m0.task) * 1000) / n);
      rate.push((res.ok * 1000) / res.doneMs);
      bytes = collector.requests().reduce((a, x) => a + x.bytes, 0) / n;
    }
    return {
      events: n,
      syncUsPerEvent: summarize(sync),
      totalMainThreadUsPerEvent: summarize(total),
      totalMainThreadTaskWallUsPerEvent: summarize(task),
      deliveredPerSecond: summarize(rate),
      requestsPerEvent: 1,
      bytesPerEvent: bytes,
      pageErrors: errors,
    };
  } finally {
    await context.close();
  }
}

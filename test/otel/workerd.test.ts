// OutboxSpanProcessor in real workerd (miniflare 4) under @langfuse/tracing and the OTel SDK, sending to the real
// collector: spans arrive, and the response does not wait for them.
import type { Miniflare } from 'miniflare';
import { startWorkerd, type Workerd } from '../helpers/workerd';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';

/** How long the collector holds each OTLP answer in the "not delayed" tests. */
const SLOW_MS = 1500;
/** The Worker's injected backoff cap. */
const RETRY_MAX_DELAY_MS = 100;

let collector: Collector;
let mf: Miniflare;
let workerd: Workerd;

beforeAll(async () => {
  collector = await startCollector({ langfuse: 'v4' });
  // As wrangler bundles: the OTel packages' "browser" builds (their Node builds import os, fs, child_process).
  workerd = await startWorkerd({
    entry: 'test/otel/fixtures/worker-app.ts',
    browserBuilds: true,
    socket: true,
    bindings: { LANGFUSE_BASE_URL: collector.url, LANGFUSE_PUBLIC_KEY: 'pk-worker', LANGFUSE_SECRET_KEY: 'sk-worker', RETRY_MAX_DELAY_MS: String(RETRY_MAX_DELAY_MS) },
  });
  mf = workerd.mf;
  await mf.dispatchFetch('http://worker/stats'); // load the isolate, so the first timed request is not a cold start
});

afterAll(async () => {
  await workerd?.dispose();
  await collector?.close();
});

beforeEach(() => collector.reset());

describe('OutboxSpanProcessor in workerd', () => {
  for (const route of ['ambient', 'ctx'] as const) {
    it(`${route}: the response comes before the collector answers; the 3 spans arrive through waitUntil`, async () => {
      collector.setFault({ mode: 'slow', delayMs: SLOW_MS, path: 'otlp' });
      const t0 = performance.now();
      const res = await mf.dispatchFetch(`http://worker/${route}?req=1`);
      const responseMs = performance.now() - t0;
      // The collector logs a request once it has answered it: none is logged yet, so the response did not wait.
      expect(collector.requests()).toEqual([]);
      expect(await res.text()).toBe('traced 1');
      expect(responseMs).toBeLessThan(SLOW_MS);
      await collector.waitFor((c) => c.observations().length === 3, 10_000);
      const observations = collector.observations();
      expect(observations.map((o) => [o.name, o.type]).sort()).toEqual([
        ['handle-1', 'span'],
        ['llm', 'generation'],
        ['seen', 'event'],
      ]);
      const llm = observations.find((o) => o.name === 'llm')!;
      expect(llm).toMatchObject({ model: 'gpt-4o', usageDetails: { input: 3, output: 5, total: 8 }, environment: 'workers', parentObservationId: observations.find((o) => o.name === 'handle-1')!.id });
      // The collector logs a request once it has answered it, with status 0 if the client had gone: a 200 here means
      // workerd kept the send alive (waitUntil) after the response until the answer came.
      await collector.waitFor((c) => c.requests().length >= 1 && c.requests().every((r) => r.status !== 0), 10_000);
      expect(collector.requests().map((r) => r.status)).toEqual([200]);
      expect(collector.requests()[0]!.auth).toBe('basic');
      collector.setFault({ mode: 'none' });
    });
  }

  it('ambient: a failed send is retried by a later request of the same isolate; nothing is lost', async () => {
    collector.setFault({ mode: 'status', status: 503, path: 'otlp', times: 1 });
    expect(await (await mf.dispatchFetch('http://worker/ambient?req=2')).text()).toBe('traced 2');
    await collector.waitFor((c) => c.requests().some((r) => r.status === 503), 10_000);
    // Backoff gates the client; a request after it has passed sends the queued spans with its own.
    await new Promise((r) => setTimeout(r, RETRY_MAX_DELAY_MS + 50));
    expect(await (await mf.dispatchFetch('http://worker/ambient?req=3')).text()).toBe('traced 3');
    await collector.waitFor((c) => c.observations().length === 6, 10_000);
    const stats = (await (await mf.dispatchFetch('http://worker/stats')).json()) as { sent: number; queued: number; dropped: Record<string, number> };
    expect(stats.queued).toBe(0);
    expect(Object.values(stats.dropped).every((n) => n === 0)).toBe(true);
    expect(Object.values(collector.spanArrivals()).every((n) => n === 1)).toBe(true);
  });
});

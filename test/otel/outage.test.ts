// forceFlush() during an outage: it resolves (never rejects) within `timeout` plus a margin, and the spans are still
// queued and arrive once the collector is back. LangfuseSpanProcessor in the same 10 s outage, for comparison.
import { LangfuseSpanProcessor } from '@langfuse/otel';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { OutboxSpanProcessor, SETTLE_MARGIN_MS } from '../../src/otel';
import type { DropInfo } from '../../src/otel';
import { providerWith } from './helpers';

let reference: Collector;
let ours: Collector;
const keys = { publicKey: 'pk-lf-outage', secretKey: 'sk-lf-outage' };
/** Retry quickly (an option, injected so the test need not wait out the default backoff). */
const quickRetry = { initialDelayMs: 50, maxDelayMs: 250, maxAttempts: 1000 };
/** Scheduling slack on a shared 2-core machine (timers fire late under load); far below the 5 s hang. */
const SLACK_MS = 1000;

// Fresh collectors and processors per test: a test that fails must not leave retries landing in the next one.
const cleanups: (() => Promise<unknown>)[] = [];
beforeEach(async () => {
  [reference, ours] = await Promise.all([startCollector({ langfuse: 'v4' }), startCollector({ langfuse: 'v4' })]);
  cleanups.push(() => reference.close(), () => ours.close());
});
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((f) => f().catch(() => undefined)));
});
/** Shuts the provider down after the test, whatever happens in it. */
function later<T extends { shutdown(): Promise<void> }>(provider: T): T {
  cleanups.unshift(() => provider.shutdown());
  return provider;
}

/** Ends `count` Langfuse-scoped spans (exported by the default filter) named `${prefix}-i`. */
function endSpans(processor: SpanProcessor, prefix: string, count: number) {
  const provider = later(providerWith(processor));
  const tracer = provider.getTracer('langfuse-sdk', '5.11.1');
  for (let i = 0; i < count; i++) tracer.startSpan(`${prefix}-${i}`, { attributes: { 'langfuse.observation.type': 'span' } }).end();
  return provider;
}

/** How a flush ended: resolved or rejected, after how long. */
async function timed(flush: () => Promise<void>): Promise<{ outcome: 'resolved' | 'rejected'; ms: number; error?: string }> {
  const t0 = performance.now();
  try {
    await flush();
    return { outcome: 'resolved', ms: Math.round(performance.now() - t0) };
  } catch (error) {
    return { outcome: 'rejected', ms: Math.round(performance.now() - t0), error: String(error) };
  }
}

describe('OutboxSpanProcessor during an outage', () => {
  it('collector down: forceFlush resolves at once, the spans stay queued and arrive when it is back', async () => {
    ours.setFault({ mode: 'down', path: 'otlp' });
    const drops: DropInfo[] = [];
    // A refused connection fails at once; a roomy timeout keeps a slow answer after recovery from being aborted
    // (and then, rightly, resent), so that arrivals can be checked to be exactly one per span.
    const ob = new OutboxSpanProcessor({ ...keys, baseUrl: ours.url, timeout: 3, retry: quickRetry, onDrop: (d) => drops.push(d) });
    const provider = endSpans(ob, 'down', 20);
    const flush = await timed(() => provider.forceFlush());
    expect(flush.outcome).toBe('resolved');
    expect(flush.ms).toBeLessThan(3000 + SETTLE_MARGIN_MS + SLACK_MS);
    expect(ob.stats()).toMatchObject({ tracked: 20, sent: 0 });
    expect(ob.stats().queued + ob.stats().inflight).toBe(20);
    await ours.waitFor((c) => c.stats().requests > 0, 5000); // it did try
    ours.setFault({ mode: 'none' });
    await ours.waitFor((c) => c.observations().length === 20, 5000);
    await ours.waitFor(() => ob.stats().sent === 20, 5000); // the answers are read, too
    expect(Object.values(ours.spanArrivals()).every((n) => n === 1)).toBe(true);
    expect(ob.stats()).toMatchObject({ tracked: 20, sent: 20, queued: 0, inflight: 0 });
    expect(drops).toEqual([]);
    await provider.shutdown();
  });

  it('collector hangs: forceFlush resolves after timeout + margin, does not wait for the answer', async () => {
    ours.setFault({ mode: 'slow', delayMs: 5000, path: 'otlp', times: 1 });
    const ob = new OutboxSpanProcessor({ ...keys, baseUrl: ours.url, timeout: 0.3, retry: quickRetry });
    const provider = endSpans(ob, 'hang', 5);
    const flush = await timed(() => provider.forceFlush());
    expect(flush.outcome).toBe('resolved');
    expect(flush.ms).toBeGreaterThanOrEqual(250);
    expect(flush.ms).toBeLessThan(300 + SETTLE_MARGIN_MS + SLACK_MS);
    // The aborted request is retried: every span is acknowledged once the collector answers again.
    await ours.waitFor(() => ob.stats().sent === 5, 5000);
    expect(ours.observations()).toHaveLength(5);
    await provider.shutdown();
  });

  it('shutdown during an outage resolves within timeout + margin and reports what it could not send', async () => {
    ours.setFault({ mode: 'down', path: 'otlp' });
    const drops: DropInfo[] = [];
    const ob = new OutboxSpanProcessor({ ...keys, baseUrl: ours.url, timeout: 0.3, retry: quickRetry, onDrop: (d) => drops.push(d) });
    const provider = endSpans(ob, 'bye', 7);
    const result = await timed(() => provider.shutdown());
    expect(result.outcome).toBe('resolved');
    expect(result.ms).toBeLessThan(300 + SETTLE_MARGIN_MS + SLACK_MS);
    await ours.waitFor(() => drops.length > 0, 2000);
    expect(drops.reduce((n, d) => n + d.count, 0)).toBe(7);
    expect(drops.every((d) => d.reason === 'shutdown')).toBe(true);
    expect(ob.stats().dropped.shutdown).toBe(7);
    // A span ending after shutdown is not lost silently either.
    endSpans(ob, 'late', 1);
    await new Promise((r) => setTimeout(r, 0));
    expect(ob.stats().dropped.shutdown).toBe(8);
    ours.setFault({ mode: 'none' });
  });

  it('a 10 s outage, side by side with LangfuseSpanProcessor: how many spans each loses, whether forceFlush rejects', async () => {
    const count = 50;
    reference.setFault({ mode: 'down', path: 'otlp' });
    ours.setFault({ mode: 'down', path: 'otlp' });
    const outageStart = Date.now();
    const lf = new LangfuseSpanProcessor({ ...keys, baseUrl: reference.url });
    const ob = new OutboxSpanProcessor({ ...keys, baseUrl: ours.url, retry: quickRetry });
    const lfProvider = endSpans(lf, 'outage', count);
    const obProvider = endSpans(ob, 'outage', count);
    const [lfFlush, obFlush] = await Promise.all([timed(() => lfProvider.forceFlush()), timed(() => obProvider.forceFlush())]);
    // The outage lasts 10 s whatever the processors do (that is the scenario, not a constant of ours).
    await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - outageStart))));
    reference.setFault({ mode: 'none' });
    ours.setFault({ mode: 'none' });
    const [lfAfter, obAfter] = await Promise.all([timed(() => lfProvider.forceFlush()), timed(() => obProvider.forceFlush())]);
    await ours.waitFor((c) => c.observations().length === count, 5000).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300)); // anything LangfuseSpanProcessor still had gets a moment to land
    const lost = { langfuse: count - reference.observations().length, outbox: count - ours.observations().length };
    console.log(
      `10 s outage, ${count} spans each: LangfuseSpanProcessor lost ${lost.langfuse}, forceFlush during the outage ${lfFlush.outcome} after ${lfFlush.ms} ms${lfFlush.error ? ` (${lfFlush.error})` : ''}, after it ${lfAfter.outcome}; ` +
        `OutboxSpanProcessor lost ${lost.outbox}, forceFlush ${obFlush.outcome} after ${obFlush.ms} ms, after it ${obAfter.outcome}`,
    );
    expect(obFlush.outcome).toBe('resolved');
    expect(obAfter.outcome).toBe('resolved');
    expect(lost.outbox).toBe(0);
    expect(Object.values(ours.spanArrivals()).every((n) => n === 1)).toBe(true);
    await Promise.all([lfProvider.shutdown().catch(() => undefined), obProvider.shutdown()]);
  }, 40_000);
});

// sampleRate: decided per trace id exactly as OpenTelemetry's TraceIdRatioBasedSampler decides (the real class is
// the oracle), whole traces kept or left out, about the rate, counted in stats().sampledOut and never as a drop.
import { TraceIdRatioBasedSampler, SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { createOutbox, OutboxOptionsError, type DropInfo } from '../../src/node';
import { keepTrace, sampleBound } from '../../src/trace/sample';
import { expectConservation } from '../helpers/conservation';

let collector: Collector;
beforeAll(async () => {
  collector = await startCollector({ langfuse: 'v4' });
});
afterAll(() => collector.close());
beforeEach(() => collector.reset());

const otelKeeps = (rate: number, traceId: string) =>
  new TraceIdRatioBasedSampler(rate).shouldSample(ROOT_CONTEXT, traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;

describe('sampleRate', () => {
  it('the same decision as TraceIdRatioBasedSampler for 5 000 ids at 7 rates (edges included)', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => (i < 3 ? ['ffffffffffffffffffffffffffffffff', '00000000000000000000000000000001', '7fffffff000000000000000000000000'][i]! : crypto.randomUUID().replace(/-/g, '')));
    for (const rate of [0, 0.001, 0.1, 0.5, 0.9, 0.999, 1]) {
      const bound = sampleBound(rate);
      const mismatches = ids.filter((id) => keepTrace(id, bound) !== otelKeeps(rate, id));
      expect(mismatches, `rate ${rate}`).toEqual([]);
    }
  });

  it('0.5: 200 traces of 4 spans (children before and after an await) and a score each: whole traces kept or left out, about half, stats say so', async () => {
    const drops: DropInfo[] = [];
    const outbox = createOutbox({ baseUrl: collector.url, publicKey: 'pk', secretKey: 'sk', sampleRate: 0.5, flushInterval: 3600, onDrop: (d) => drops.push(d) });
    const traceIds: string[] = [];
    for (let i = 0; i < 200; i++) {
      await outbox.startActiveObservation(`root-${i}`, async (root) => {
        traceIds.push(root.traceId);
        outbox.startObservation('before').end();
        await Promise.resolve();
        outbox.startObservation('after', { model: 'm' }, { asType: 'generation' }).end();
        root.startObservation('event', {}, { asType: 'event' });
      });
      outbox.score({ name: 'quality', value: 1, traceId: traceIds[i]! });
    }
    // A session score has no trace to follow: always kept.
    outbox.score({ name: 'session-score', value: 1, sessionId: 'sess-1' });
    await outbox.flush();
    const kept = traceIds.filter((id) => otelKeeps(0.5, id));
    const stored = collector.observations();
    const perTrace = new Map<string, number>();
    for (const o of stored) perTrace.set(o.traceId, (perTrace.get(o.traceId) ?? 0) + 1);
    // Whole traces: every stored trace has all 4 spans; the stored traces are exactly the ones the sampler keeps.
    expect([...perTrace.values()].every((n) => n === 4)).toBe(true);
    expect([...perTrace.keys()].sort()).toEqual([...kept].sort());
    // About half (200 × 0.5 ± 30: 4.2 standard deviations).
    expect(kept.length).toBeGreaterThan(70);
    expect(kept.length).toBeLessThan(130);
    expect(collector.scores().filter((s) => s.name === 'quality').map((s) => s.traceId).sort()).toEqual([...kept].sort());
    expect(collector.scores().filter((s) => s.name === 'session-score')).toHaveLength(1);
    const left = 200 - kept.length;
    const stats = outbox.stats();
    console.log(`sampleRate 0.5: ${kept.length}/200 traces kept, sampledOut ${stats.sampledOut} (= ${left} × 5)`);
    expect(stats).toMatchObject({ sampledOut: left * 5, sent: kept.length * 5 + 1, queued: 0, inflight: 0 });
    expect(Object.values(stats.dropped).every((n) => n === 0)).toBe(true);
    expect(drops).toEqual([]);
    await outbox.shutdown();
    expectConservation(outbox.stats());
  });

  it('0 sends nothing, 1 (the default) everything; LANGFUSE_SAMPLE_RATE is read; an invalid rate throws naming the option', async () => {
    const none = createOutbox({ baseUrl: collector.url, publicKey: 'pk', secretKey: 'sk', sampleRate: 0, flushInterval: 3600 });
    for (let i = 0; i < 20; i++) none.startObservation(`n${i}`).end();
    await none.flush();
    expect(none.stats()).toMatchObject({ sampledOut: 20, sent: 0, requests: 0 });
    const saved = process.env.LANGFUSE_SAMPLE_RATE;
    try {
      process.env.LANGFUSE_SAMPLE_RATE = '0';
      const fromEnv = createOutbox({ baseUrl: collector.url, publicKey: 'pk', secretKey: 'sk', flushInterval: 3600 });
      fromEnv.startObservation('e').end();
      expect(fromEnv.stats().sampledOut).toBe(1);
      await fromEnv.shutdown();
      process.env.LANGFUSE_SAMPLE_RATE = 'half';
      expect(() => createOutbox({ baseUrl: collector.url })).toThrow(/sampleRate \(from LANGFUSE_SAMPLE_RATE\) must be a number from 0 to 1/);
    } finally {
      if (saved === undefined) delete process.env.LANGFUSE_SAMPLE_RATE;
      else process.env.LANGFUSE_SAMPLE_RATE = saved;
    }
    expect(() => createOutbox({ baseUrl: collector.url, sampleRate: 2 })).toThrow(OutboxOptionsError);
    const all = createOutbox({ baseUrl: collector.url, publicKey: 'pk', secretKey: 'sk', flushInterval: 3600 });
    for (let i = 0; i < 20; i++) all.startObservation(`a${i}`).end();
    await all.flush();
    expect(all.stats()).toMatchObject({ sampledOut: 0, sent: 20 });
    await Promise.all([none.shutdown(), all.shutdown()]);
  });
});

// OutboxSpanProcessor.score(): a score goes through the processor's own queue — batched on /api/public/ingestion
// with the spans' Basic keys, retried like them, flushed by forceFlush — and arrives exactly once (the collector
// counts every received event id, duplicates included).
import { startActiveObservation, setLangfuseTracerProvider } from '@langfuse/tracing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { OutboxSpanProcessor } from '../../src/otel';
import { providerWith } from './helpers';

let collector: Collector;
beforeAll(async () => {
  collector = await startCollector({ langfuse: 'v4' });
});
afterAll(() => collector.close());
beforeEach(() => collector.reset());

describe('OutboxSpanProcessor scores', () => {
  it('a score given to the processor arrives exactly once, with the spans, on the same keys; a 503 on the first send is retried', async () => {
    const processor = new OutboxSpanProcessor({ publicKey: 'pk-lf-s', secretKey: 'sk-lf-s', baseUrl: collector.url, retry: { initialDelayMs: 10, maxDelayMs: 20, maxAttempts: 5 } });
    const provider = providerWith(processor);
    setLangfuseTracerProvider(provider);
    collector.setFault({ mode: 'status', status: 503, times: 1, path: 'ingestion' });
    const { traceId, id } = await startActiveObservation('answer', async (span) => ({ traceId: span.traceId, id: span.id }));
    const scoreId = processor.score({ name: 'helpful', value: 1, traceId, observationId: id, comment: 'from the OTel side' });
    expect(scoreId).not.toBe('');
    await provider.forceFlush();
    await collector.waitFor((c) => (c.scores().length >= 1 ? true : null), 10_000);
    await provider.forceFlush();
    expect(collector.observations().map((o) => o.name)).toEqual(['answer']);
    const scores = collector.scores();
    expect(scores).toHaveLength(1);
    expect(scores[0]).toMatchObject({ id: scoreId, name: 'helpful', value: 1, traceId, observationId: id, comment: 'from the OTel side' });
    // Exactly once on the wire: one event received in the accepted request, no duplicate; the 503 was retried.
    expect(collector.stats()).toMatchObject({ duplicates: 0 });
    const ingestion = collector.requests().filter((r) => r.path === 'ingestion');
    expect(ingestion.map((r) => r.status)).toEqual([503, 207]);
    expect(ingestion.every((r) => r.auth === 'basic')).toBe(true);
    expect(collector.requests().filter((r) => r.path === 'otlp').every((r) => r.auth === 'basic')).toBe(true);
    expect(processor.stats()).toMatchObject({ sent: 2, retried: 1, queued: 0, inflight: 0 });
    expect(Object.values(processor.stats().dropped).every((n) => n === 0)).toBe(true);
    // An invalid score is dropped 'invalid' and counted, never thrown.
    expect(processor.score({ name: '', value: 1, traceId } as never)).toBe('');
    expect(processor.stats().dropped.invalid).toBe(1);
    await provider.shutdown();
  });
});

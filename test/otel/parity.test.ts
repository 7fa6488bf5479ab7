// The same @langfuse/tracing scenario through the real LangfuseSpanProcessor and through OutboxSpanProcessor, each
// against its own collector: the stored observations must be the same, field by field.
import { LangfuseSpanProcessor } from '@langfuse/otel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { OutboxSpanProcessor } from '../../src/otel';
import { comparable, differences, providerWith, runScenario, SCENARIO_NAMES } from './helpers';

let reference: Collector;
let ours: Collector;
const keys = { publicKey: 'pk-lf-parity', secretKey: 'sk-lf-parity' };

beforeAll(async () => {
  [reference, ours] = await Promise.all([startCollector({ langfuse: 'v4' }), startCollector({ langfuse: 'v4' })]);
});
afterAll(async () => {
  await Promise.all([reference?.close(), ours?.close()]);
});

describe('OutboxSpanProcessor stores what LangfuseSpanProcessor stores', () => {
  it('span, generation (model, usage, cost), tool, event, observe(), nested generation, propagated trace attributes', async () => {
    const common = { ...keys, environment: 'staging', release: 'v1.2.3' };
    const lf = new LangfuseSpanProcessor({ ...common, baseUrl: reference.url });
    const ob = new OutboxSpanProcessor({ ...common, baseUrl: ours.url });
    const lfProvider = providerWith(lf);
    const obProvider = providerWith(ob);

    await runScenario(lfProvider);
    await runScenario(obProvider);
    await Promise.all([lfProvider.forceFlush(), obProvider.forceFlush()]);
    await reference.waitFor((c) => c.observations().length >= SCENARIO_NAMES.length);
    await ours.waitFor((c) => c.observations().length >= SCENARIO_NAMES.length);

    const want = comparable(reference.observations());
    const got = comparable(ours.observations());
    expect(want.map((o) => o.name).sort()).toEqual([...SCENARIO_NAMES].sort());
    // Printed so the report can quote it.
    console.log(`field-by-field: ${want.length} observations × ${Object.keys(want[0]!).length} fields, differences: ${JSON.stringify(differences(want, got))}`);
    expect(differences(want, got)).toEqual([]);
    expect(got).toEqual(want);

    // The scenario's facts, so that two equally wrong processors cannot pass.
    const byName = Object.fromEntries(got.map((o) => [o.name, o]));
    expect(byName['llm-call']).toMatchObject({ type: 'generation', parent: 'chat-turn', model: 'gpt-4o', usageDetails: { input: 12, output: 30, total: 42 } });
    expect(byName['web-search']).toMatchObject({ type: 'tool', parent: 'chat-turn' });
    expect(byName['cache-hit']).toMatchObject({ type: 'event', level: 'DEBUG' });
    expect(byName['rewrite']).toMatchObject({ type: 'generation', level: 'ERROR', statusMessage: 'rate limited upstream' });
    expect(byName['chat-turn']).toMatchObject({
      parent: null,
      environment: 'staging',
      release: 'v1.2.3',
      version: '2.4.0',
      trace: { name: 'support-chat', userId: 'user-7', sessionId: 'session-3', tags: ['beta', 'eu'], metadata: { plan: 'pro' } },
    });
    // The raw spans carry the same attribute keys with the same values (app-root mark included).
    const rawAttributes = (c: Collector) =>
      Object.fromEntries(
        c.observations().map((o) => {
          const raw = o.raw as { attributes: { key: string; value: Record<string, unknown> }[] };
          const values = raw.attributes.map((kv) => [kv.key, JSON.stringify(Object.values(kv.value)[0])] as const);
          return [o.name, Object.fromEntries(values.sort())];
        }),
      );
    expect(rawAttributes(ours)).toEqual(rawAttributes(reference));
    expect(rawAttributes(ours)['chat-turn']!['langfuse.internal.is_app_root']).toBe('true');
    expect(rawAttributes(ours)['llm-call']!['langfuse.internal.is_app_root']).toBeUndefined();
    const [refTrace] = reference.traces();
    const [ourTrace] = ours.traces();
    const strip = (t: Record<string, unknown>) => ({ ...t, id: undefined, startTime: undefined, endTime: undefined, rootObservationId: undefined });
    expect(strip(ourTrace as never)).toEqual(strip(refTrace as never));

    // Same headers that matter to Langfuse: Basic auth, JSON; ours adds the real-time ingestion version.
    expect(ours.requests().every((r) => r.auth === 'basic' && r.status === 200)).toBe(true);
    expect(ob.stats()).toMatchObject({ sent: SCENARIO_NAMES.length, queued: 0, inflight: 0 });
    await Promise.all([lfProvider.shutdown(), obProvider.shutdown()]);
  });

  it('a span of a foreign scope keeps its scope: its attributes land in metadata.attributes, as with LangfuseSpanProcessor', async () => {
    reference.reset();
    ours.reset();
    const lf = new LangfuseSpanProcessor({ ...keys, baseUrl: reference.url });
    const ob = new OutboxSpanProcessor({ ...keys, baseUrl: ours.url });
    for (const [processor] of [[lf], [ob]] as const) {
      const provider = providerWith(processor);
      const tracer = provider.getTracer('openinference.instrumentation.openai', '1.0.0');
      const span = tracer.startSpan('ChatCompletion', { attributes: { 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 5, 'gen_ai.usage.output_tokens': 7, 'llm.provider': 'openai', 'http.retries': [1, 2] } });
      span.addEvent('first-token', { 'token.index': 0 });
      span.end();
      // Not exported by default: no gen_ai attribute, unknown scope.
      provider.getTracer('http').startSpan('GET /health').end();
      await provider.forceFlush();
    }
    await reference.waitFor((c) => c.observations().length >= 1);
    await ours.waitFor((c) => c.observations().length >= 1);
    const want = comparable(reference.observations());
    const got = comparable(ours.observations());
    expect(differences(want, got)).toEqual([]);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ type: 'generation', model: 'gpt-4o', usageDetails: { input: 5, output: 7, total: 12 }, scope: { name: 'openinference.instrumentation.openai', version: '1.0.0' } });
    expect((got[0]!.metadata as { attributes: Record<string, unknown> }).attributes).toMatchObject({ 'llm.provider': 'openai' });
    expect(ob.stats().filtered).toBe(1);
    // The event travels too.
    const raw = ours.observations()[0]!.raw as { events?: { name: string }[] };
    expect(raw.events?.map((e) => e.name)).toEqual(['first-token']);
  });
});

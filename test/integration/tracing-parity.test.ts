// The same instrumented code (test/helpers/tracing-scenario.ts) run with @langfuse/tracing + LangfuseSpanProcessor
// and with an Outbox client, each against its own collector answering as Langfuse v4: the stored observations must
// be the same, field by field (resource-level fields aside: service and scope name the sending SDK).
import { LangfuseSpanProcessor } from '@langfuse/otel';
import * as langfuse from '@langfuse/tracing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { createOutbox } from '../../src/node';
import { differences, providerWith } from '../otel/helpers';
import { runTracingScenario, TRACING_SCENARIO_NAMES } from '../helpers/tracing-scenario';
import { expectScenarioFacts, rows, traceRows } from '../helpers/tracing-checks';

let reference: Collector;
let ours: Collector;
const common = { publicKey: 'pk-lf-parity', secretKey: 'sk-lf-parity', environment: 'staging', release: 'v1.2.3' };

beforeAll(async () => {
  [reference, ours] = await Promise.all([startCollector({ langfuse: 'v4' }), startCollector({ langfuse: 'v4' })]);
});
afterAll(async () => {
  await Promise.all([reference?.close(), ours?.close()]);
});

describe('Langfuse tracing calls: Outbox client vs @langfuse/tracing + LangfuseSpanProcessor (Node)', () => {
  it('propagateAttributes, startActiveObservation with children before/after an await, a generation with usage, throwing callbacks, observe (sync, async), parentSpanContext, getActive*, createTraceId: the same rows', async () => {
    const provider = providerWith(new LangfuseSpanProcessor({ ...common, baseUrl: reference.url }));
    langfuse.setLangfuseTracerProvider(provider);
    const langfuseFacts = await runTracingScenario(langfuse);
    await provider.forceFlush();

    const outbox = createOutbox({ ...common, baseUrl: ours.url, flushInterval: 3600 });
    const outboxFacts = await runTracingScenario(outbox);
    await outbox.flush();

    await reference.waitFor((c) => c.observations().length >= TRACING_SCENARIO_NAMES.length);
    await ours.waitFor((c) => c.observations().length >= TRACING_SCENARIO_NAMES.length);
    expect(langfuseFacts.seededTraceId).toBe(outboxFacts.seededTraceId);
    expectScenarioFacts(langfuseFacts, reference);
    expectScenarioFacts(outboxFacts, ours);
    const want = rows(reference);
    const got = rows(ours);
    expect(want.map((o) => o.name).sort()).toEqual([...TRACING_SCENARIO_NAMES].sort());
    console.log(`field-by-field (Node): ${want.length} observations × ${Object.keys(want[0]!).length} fields, differences: ${JSON.stringify(differences(want, got))}`);
    expect(differences(want, got)).toEqual([]);
    expect(got).toEqual(want);
    // The trace rows too (ids, times and the sender's service name aside).
    expect(traceRows(ours)).toEqual(traceRows(reference));
    // The app-root mark sits on the same spans.
    const roots = (c: Collector) =>
      c.observations().filter((o) => (o.raw as { attributes: { key: string }[] }).attributes.some((kv) => kv.key === 'langfuse.internal.is_app_root')).map((o) => o.name).sort();
    expect(roots(ours)).toEqual(roots(reference));
    expect(roots(ours)).toEqual(['remote-child', 'turn']);
    await Promise.all([provider.shutdown(), outbox.shutdown()]);
  });
});

// Langfuse's tracing calls in real workerd (miniflare 4): the scenario of test/helpers/tracing-scenario.ts with
// @langfuse/tracing + LangfuseSpanProcessor and with outbox/worker's client, in the same Worker with
// `nodejs_compat` (AsyncLocalStorage): the same rows. Without the flag, Outbox falls back to the synchronous
// context (a page's): nothing crashes, and exactly the documented calls find their parent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { differences } from '../otel/helpers';
import { expectScenarioFacts, rows, traceRows } from '../helpers/tracing-checks';
import { startWorkerd, type Workerd } from '../helpers/workerd';
import { TRACING_SCENARIO_NAMES, type ScenarioFacts } from '../helpers/tracing-scenario';

let reference: Collector;
let ours: Collector;
let withFlag: Workerd;
let withoutFlag: Workerd;
let alsOnly: Workerd;

beforeAll(async () => {
  [reference, ours] = await Promise.all([startCollector({ langfuse: 'v4' }), startCollector({ langfuse: 'v4' })]);
  const bindings = { REFERENCE_URL: reference.url, OURS_URL: ours.url };
  const entry = 'test/worker/fixtures/tracing-worker.ts';
  withFlag = await startWorkerd({ entry, browserBuilds: true, bindings, compatibilityFlags: ['nodejs_compat'] });
  withoutFlag = await startWorkerd({ entry: 'test/worker/fixtures/tracing-no-flag.ts', bindings });
  alsOnly = await startWorkerd({ entry: 'test/worker/fixtures/tracing-als.ts', bindings, compatibilityFlags: ['nodejs_als'] });
}, 120_000);
afterAll(async () => {
  await Promise.all([withFlag?.dispose(), withoutFlag?.dispose(), alsOnly?.dispose()]);
  await Promise.all([reference?.close(), ours?.close()]);
});

describe('tracing calls in workerd', () => {
  it('nodejs_compat: Outbox and @langfuse/tracing + LangfuseSpanProcessor store the same rows', async () => {
    const langfuseFacts = (await (await withFlag.mf.dispatchFetch('http://worker/langfuse')).json()) as ScenarioFacts;
    const { facts: outboxFacts, stats } = (await (await withFlag.mf.dispatchFetch('http://worker/outbox')).json()) as { facts: ScenarioFacts; stats: { sent: number } };
    await reference.waitFor((c) => c.observations().length >= TRACING_SCENARIO_NAMES.length, 10_000);
    await ours.waitFor((c) => c.observations().length >= TRACING_SCENARIO_NAMES.length, 10_000);
    expect(stats.sent).toBe(TRACING_SCENARIO_NAMES.length);
    expect(outboxFacts.seededTraceId).toBe(langfuseFacts.seededTraceId);
    expectScenarioFacts(langfuseFacts, reference);
    expectScenarioFacts(outboxFacts, ours);
    const want = rows(reference);
    const got = rows(ours);
    console.log(`field-by-field (workerd): ${want.length} observations × ${Object.keys(want[0]!).length} fields, differences: ${JSON.stringify(differences(want, got))}`);
    expect(differences(want, got)).toEqual([]);
    expect(got).toEqual(want);
    expect(traceRows(ours)).toEqual(traceRows(reference));
  });

  it('without nodejs_compat: no crash; the synchronous part of the callback finds its parent, code after an await does not (the handle does)', async () => {
    ours.reset();
    const seen = await (await withoutFlag.mf.dispatchFetch('http://worker/context')).json();
    expect(seen).toEqual({ before: true, after: false });
    await ours.waitFor((c) => c.observations().length >= 4, 10_000);
    const named = (name: string) => ours.observations().find((o) => o.name === name)!;
    const root = named('ctx-root');
    expect(named('ctx-before')).toMatchObject({ traceId: root.traceId, parentObservationId: root.id });
    expect(named('ctx-after-from-handle')).toMatchObject({ traceId: root.traceId, parentObservationId: root.id });
    // After the await nothing is active: a new trace.
    expect(named('ctx-after')).toMatchObject({ parentObservationId: null });
    expect(named('ctx-after').traceId).not.toBe(root.traceId);
  });

  it('nodejs_compat: the same calls all find their parent after the await', async () => {
    ours.reset();
    const seen = await (await withFlag.mf.dispatchFetch('http://worker/context')).json();
    expect(seen).toEqual({ before: true, after: true });
    await ours.waitFor((c) => c.observations().length >= 4, 10_000);
    const named = (name: string) => ours.observations().find((o) => o.name === name)!;
    const root = named('ctx-root');
    for (const name of ['ctx-before', 'ctx-after', 'ctx-after-from-handle']) expect(named(name)).toMatchObject({ traceId: root.traceId, parentObservationId: root.id });
  });

  it('only nodejs_als: useAsyncLocalStorage(AsyncLocalStorage) makes the context follow the await', async () => {
    ours.reset();
    const seen = await (await alsOnly.mf.dispatchFetch('http://worker/context')).json();
    expect(seen).toEqual({ registered: true, before: true, after: true });
    await ours.waitFor((c) => c.observations().length >= 2, 10_000);
    const named = (name: string) => ours.observations().find((o) => o.name === name)!;
    expect(named('als-after')).toMatchObject({ traceId: named('als-root').traceId, parentObservationId: named('als-root').id });
  });
});

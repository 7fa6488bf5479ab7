// Options (names, units, env, errors naming the option), masking and the filter, each against a real collector where
// the outcome is what the collector stored; masking also against LangfuseSpanProcessor.
import { LangfuseSpanProcessor } from '@langfuse/otel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { OutboxSpanProcessor, OutboxOptionsError, isDefaultExportSpan, type DropInfo } from '../../src/otel';
import { providerWith } from './helpers';

let reference: Collector;
let ours: Collector;
const keys = { publicKey: 'pk-lf-opt', secretKey: 'sk-lf-opt' };

beforeAll(async () => {
  [reference, ours] = await Promise.all([startCollector({ langfuse: 'v4' }), startCollector({ langfuse: 'v4' })]);
});
afterAll(async () => {
  await Promise.all([reference?.close(), ours?.close()]);
});

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OutboxOptionsError);
    return (error as Error).message;
  }
  throw new Error('did not throw');
}

describe('options', () => {
  it('invalid options throw at construction, naming the option', () => {
    expect(message(() => new OutboxSpanProcessor({ flushAt: 0 }))).toBe('OutboxSpanProcessor: invalid options: flushAt must be an integer from 1 to 10000, got 0');
    expect(message(() => new OutboxSpanProcessor({ flushInterval: -1 }))).toMatch(/flushInterval must be a number of seconds > 0/);
    expect(message(() => new OutboxSpanProcessor({ timeout: 0 }))).toMatch(/timeout must be a number of seconds > 0 and ≤ 600, got 0/);
    expect(message(() => new OutboxSpanProcessor({ exportMode: 'fast' as never }))).toMatch(/exportMode must be 'batched' or 'immediate', got "fast"/);
    expect(message(() => new OutboxSpanProcessor({ shouldExportSpan: true as never }))).toMatch(/shouldExportSpan must be a function/);
    expect(message(() => new OutboxSpanProcessor({ mask: 'x' as never }))).toMatch(/mask must be a function/);
    expect(message(() => new OutboxSpanProcessor({ additionalHeaders: { a: 1 } as never }))).toMatch(/additionalHeaders must be an object of strings/);
    expect(message(() => new OutboxSpanProcessor({ exporter: {} } as never))).toMatch(/exporter is not supported/);
    expect(message(() => new OutboxSpanProcessor({ headers: {} } as never))).toMatch(/unknown option "headers" \(use additionalHeaders\)/);
    expect(message(() => new OutboxSpanProcessor({ flushAtt: 3 } as never))).toMatch(/unknown option "flushAtt"/);
    expect(message(() => new OutboxSpanProcessor({ env: { LANGFUSE_TIMEOUT: 'soon' } }))).toMatch(/timeout \(from LANGFUSE_TIMEOUT\) must be .*got "soon"/);
    expect(message(() => new OutboxSpanProcessor({ env: { LANGFUSE_FLUSH_AT: 'many' } }))).toMatch(/flushAt \(from LANGFUSE_FLUSH_AT\)/);
    expect(message(() => new OutboxSpanProcessor({ baseUrl: 'not a url' }))).toBe('OutboxSpanProcessor: invalid options: baseUrl must be an absolute URL, got "not a url"');
  });

  it('LANGFUSE_* from the environment: keys, base URL, environment, release; exportMode immediate sends without forceFlush', async () => {
    ours.reset();
    const ob = new OutboxSpanProcessor({
      env: {
        LANGFUSE_BASE_URL: ours.url,
        LANGFUSE_PUBLIC_KEY: 'pk-env',
        LANGFUSE_SECRET_KEY: 'sk-env',
        LANGFUSE_TRACING_ENVIRONMENT: 'from-env',
        LANGFUSE_RELEASE: 'rel-9',
        LANGFUSE_FLUSH_AT: '500',
        LANGFUSE_FLUSH_INTERVAL: '600',
      },
      exportMode: 'immediate',
      additionalHeaders: { 'x-team': 'obs' },
    });
    const provider = providerWith(ob);
    const tracer = provider.getTracer('langfuse-sdk');
    tracer.startSpan('one').end();
    tracer.startSpan('two').end();
    await ours.waitFor((c) => c.observations().length === 2, 3000);
    const [obs] = ours.observations();
    expect(obs).toMatchObject({ environment: 'from-env', release: 'rel-9' });
    const requests = ours.requests();
    expect(requests).toHaveLength(1); // two spans ended in one task share one immediate flush
    expect(requests[0]!.auth).toBe('basic');
    await provider.shutdown();
  });
});

describe('size', () => {
  it('a span with a 600 KB prompt is sent (the processor allows 1 MiB spans; the client default of 256 KiB would drop it)', async () => {
    ours.reset();
    const drops: DropInfo[] = [];
    const ob = new OutboxSpanProcessor({ ...keys, baseUrl: ours.url, onDrop: (d) => drops.push(d) });
    const provider = providerWith(ob);
    const prompt = JSON.stringify({ document: 'x'.repeat(600_000) });
    provider.getTracer('langfuse-sdk').startSpan('long-prompt', { attributes: { 'langfuse.observation.input': prompt } }).end();
    const huge = JSON.stringify({ document: 'y'.repeat(1_100_000) });
    provider.getTracer('langfuse-sdk').startSpan('too-long', { attributes: { 'langfuse.observation.input': huge } }).end();
    await provider.forceFlush();
    await ours.waitFor((c) => c.observations().length === 1);
    expect(ours.observations()[0]).toMatchObject({ name: 'long-prompt', input: prompt });
    await ours.waitFor(() => drops.length === 1, 2000);
    expect(drops[0]).toMatchObject({ reason: 'too-large', count: 1 });
    await provider.shutdown();
  });
});

describe('mask', () => {
  it('masks the same attributes as LangfuseSpanProcessor, sync or async; a throwing mask fully masks', async () => {
    reference.reset();
    ours.reset();
    const mask = ({ data }: { data: unknown }) => (typeof data === 'string' ? data.replace(/sk-live-\w+/g, '[key]') : data);
    const asyncMask = async (p: { data: unknown }) => mask(p);
    const run = async (make: (m: typeof mask) => { forceFlush(): Promise<void> } & object, m: (p: { data: unknown }) => unknown, name: string) => {
      const processor = make(m as typeof mask) as never;
      const provider = providerWith(processor);
      const tracer = provider.getTracer('langfuse-sdk', '5.11.1');
      tracer
        .startSpan(name, {
          attributes: {
            'langfuse.observation.input': JSON.stringify({ key: 'sk-live-abc123' }),
            'langfuse.observation.output': 'ok sk-live-zzz',
            'langfuse.observation.metadata.note': 'sk-live-not-masked-by-langfuse',
          },
        })
        .end();
      await provider.forceFlush();
    };
    for (const [m, name] of [
      [mask, 'sync'],
      [asyncMask, 'async'],
      [
        () => {
          throw new Error('mask bug');
        },
        'throws',
      ],
    ] as const) {
      await run((mm) => new LangfuseSpanProcessor({ ...keys, baseUrl: reference.url, mask: mm }), m, name);
      await run((mm) => new OutboxSpanProcessor({ ...keys, baseUrl: ours.url, mask: mm }), m, name);
    }
    await reference.waitFor((c) => c.observations().length === 3);
    await ours.waitFor((c) => c.observations().length === 3);
    const view = (c: Collector) => c.observations().map((o) => ({ name: o.name, input: o.input, output: o.output, metadata: o.metadata })).sort((a, b) => a.name.localeCompare(b.name));
    expect(view(ours)).toEqual(view(reference));
    expect(view(ours).find((o) => o.name === 'async')).toMatchObject({ input: '{"key":"[key]"}', output: 'ok [key]' });
    expect(view(ours).find((o) => o.name === 'throws')).toMatchObject({ input: '<fully masked due to failed mask function>' });
  });
});

describe('shouldExportSpan', () => {
  it('default: Langfuse scope, gen_ai.* attributes, known LLM scopes; "ai" only exactly', () => {
    const span = (scope: string, attributes: Record<string, unknown> = {}) => ({ instrumentationScope: { name: scope }, attributes }) as never;
    expect(isDefaultExportSpan(span('langfuse-sdk'))).toBe(true);
    expect(isDefaultExportSpan(span('@opentelemetry/instrumentation-http'))).toBe(false);
    expect(isDefaultExportSpan(span('@opentelemetry/instrumentation-http', { 'gen_ai.system': 'openai' }))).toBe(true);
    expect(isDefaultExportSpan(span('ai'))).toBe(true);
    expect(isDefaultExportSpan(span('ai.custom'))).toBe(false);
    expect(isDefaultExportSpan(span('openinference.instrumentation.langchain'))).toBe(true);
    expect(isDefaultExportSpan(span('litellm'))).toBe(true);
    expect(isDefaultExportSpan(span('litellmx'))).toBe(false);
  });

  it('custom: undefined exports (as Langfuse: only false filters); a filter that throws drops the span with a reason', async () => {
    ours.reset();
    const drops: DropInfo[] = [];
    const ob = new OutboxSpanProcessor({
      ...keys,
      baseUrl: ours.url,
      onDrop: (d) => drops.push(d),
      shouldExportSpan: ({ otelSpan }) => {
        if (otelSpan.name === 'boom') throw new Error('filter bug');
        return otelSpan.name === 'no' ? false : (undefined as never);
      },
    });
    const provider = providerWith(ob);
    const tracer = provider.getTracer('http');
    for (const name of ['yes', 'no', 'boom']) tracer.startSpan(name).end();
    await provider.forceFlush();
    await ours.waitFor((c) => c.observations().length === 1);
    expect(ours.observations().map((o) => o.name)).toEqual(['yes']);
    expect(ob.stats()).toMatchObject({ filtered: 1, sent: 1 });
    expect(ob.stats().dropped.invalid).toBe(1);
    await ours.waitFor(() => drops.length === 1, 2000);
    expect(drops[0]).toMatchObject({ reason: 'invalid', count: 1 });
    expect(drops[0]!.detail).toMatch(/shouldExportSpan threw: Error: filter bug/);
    await provider.shutdown();
  });
});

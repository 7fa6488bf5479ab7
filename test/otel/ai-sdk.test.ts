// The Vercel AI SDK's own telemetry (ai 6, MockLanguageModelV3) through both processors: the generation with its
// model and usage must be stored as LangfuseSpanProcessor stores it.
import { LangfuseSpanProcessor } from '@langfuse/otel';
import { generateText } from 'ai6';
import { MockLanguageModelV3 } from 'ai6/test';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { OutboxSpanProcessor } from '../../src/otel';
import { comparable, differences, providerWith } from './helpers';

let reference: Collector;
let ours: Collector;
const keys = { publicKey: 'pk-lf-ai', secretKey: 'sk-lf-ai' };

beforeAll(async () => {
  [reference, ours] = await Promise.all([startCollector({ langfuse: 'v4' }), startCollector({ langfuse: 'v4' })]);
});
afterAll(async () => {
  await Promise.all([reference?.close(), ours?.close()]);
});

function mockModel() {
  return new MockLanguageModelV3({
    modelId: 'mock-gpt',
    provider: 'mock-provider',
    doGenerate: async () => ({
      content: [{ type: 'text', text: 'Outbox keeps every span.' }],
      finishReason: { unified: 'stop', raw: 'stop' },
      usage: {
        inputTokens: { total: 11, noCache: 11, cacheRead: undefined, cacheWrite: undefined },
        outputTokens: { total: 6, text: 6, reasoning: undefined },
      },
      warnings: [],
    }),
  });
}

it('generateText with experimental_telemetry → a generation with model and usage, the same as LangfuseSpanProcessor stores', async () => {
  for (const [processor] of [
    [new LangfuseSpanProcessor({ ...keys, baseUrl: reference.url, environment: 'ai-test' })],
    [new OutboxSpanProcessor({ ...keys, baseUrl: ours.url, environment: 'ai-test' })],
  ] as const) {
    const provider = providerWith(processor);
    const result = await generateText({
      model: mockModel(),
      prompt: 'What does Outbox do?',
      experimental_telemetry: { isEnabled: true, functionId: 'answer', metadata: { feature: 'faq' }, tracer: provider.getTracer('ai') },
    });
    expect(result.text).toBe('Outbox keeps every span.');
    await provider.forceFlush();
    await provider.shutdown();
  }
  await reference.waitFor((c) => c.observations().length >= 2);
  await ours.waitFor((c) => c.observations().length >= 2);
  // Values the AI SDK makes up per call (response id, timestamp) differ between the two runs by nature.
  const perRun = ['ai.response.id', 'gen_ai.response.id', 'ai.response.timestamp'];
  const settle = (list: Record<string, unknown>[]) =>
    list.map((o) => {
      const attributes = (o.metadata as { attributes?: Record<string, unknown> }).attributes;
      if (!attributes) return o;
      const fixed = { ...attributes };
      for (const key of perRun) if (key in fixed) fixed[key] = '<per run>';
      return { ...o, metadata: { ...(o.metadata as object), attributes: fixed } };
    });
  const want = settle(comparable(reference.observations()));
  const got = settle(comparable(ours.observations()));
  console.log(`ai sdk: ${want.length} observations, differences: ${JSON.stringify(differences(want, got))}`);
  expect(differences(want, got)).toEqual([]);
  const generations = got.filter((o) => o.type === 'generation');
  expect(generations.length).toBeGreaterThanOrEqual(1);
  expect(generations.some((g) => g.model === 'mock-gpt' && JSON.stringify(g.usageDetails) === JSON.stringify({ input: 11, output: 6, total: 17 }))).toBe(true);
  expect(got.every((o) => o.environment === 'ai-test' && (o.scope as { name: string }).name === 'ai')).toBe(true);
});

// OutboxVercelAiSdkIntegration against @langfuse/vercel-ai-sdk + LangfuseSpanProcessor (AI SDK 7), and
// createOutboxTracer against LangfuseSpanProcessor for AI SDK 6's experimental_telemetry: the same calls, each
// against its own collector (Langfuse's OTLP conversion, demo/collector), must store the same observations.
import { LangfuseSpanProcessor } from '@langfuse/otel';
import { LangfuseVercelAiSdkIntegration } from '@langfuse/vercel-ai-sdk';
import { generateText as generateText6 } from 'ai6';
import { MockLanguageModelV3 } from 'ai6/test';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { createOutboxTracer, OutboxVercelAiSdkIntegration } from '../../src/integrations/ai-sdk';
import { createOutbox, type Outbox } from '../../src/node';
import { startWorkerd } from '../helpers/workerd';
import { providerWith } from '../otel/helpers';
import { AI_SDK_NAMES, runAiSdkScenario, shape, withoutAgentModel } from './ai-sdk-scenario';

let reference: Collector;
let ours: Collector;
const keys = { publicKey: 'pk-lf-ai', secretKey: 'sk-lf-ai' };
const clients: Outbox[] = [];

beforeAll(async () => {
  [reference, ours] = await Promise.all([startCollector({ langfuse: 'v4' }), startCollector({ langfuse: 'v4' })]);
});
beforeEach(() => {
  reference.reset();
  ours.reset();
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.shutdown();
});
afterAll(async () => {
  await Promise.all([reference?.close(), ours?.close()]);
});

function outbox(): Outbox {
  const c = createOutbox({ ...keys, baseUrl: ours.url, flushInterval: 3600 });
  clients.push(c);
  return c;
}

describe('AI SDK 7: OutboxVercelAiSdkIntegration makes the observations @langfuse/vercel-ai-sdk makes', () => {
  it('generateText with a tool call over two steps, then streamText: same names, types, parents, models and usage', async () => {
    const lfProvider = providerWith(new LangfuseSpanProcessor({ ...keys, baseUrl: reference.url }));
    const lfTexts = await runAiSdkScenario(new LangfuseVercelAiSdkIntegration({ tracer: lfProvider.getTracer('gen_ai') }));
    await lfProvider.forceFlush();

    const ob = outbox();
    const obTexts = await runAiSdkScenario(new OutboxVercelAiSdkIntegration({ outbox: ob }));
    await ob.flush();
    expect(obTexts).toEqual(lfTexts);
    expect(obTexts).toEqual(['Sunny in Paris', 'Hello from the stream']);

    await reference.waitFor((c) => c.observations().length >= AI_SDK_NAMES.length);
    await ours.waitFor((c) => c.observations().length >= AI_SDK_NAMES.length);
    const want = shape(reference.observations());
    const got = shape(ours.observations());
    console.log(`AI SDK 7 reference observations:\n  ${want.join('\n  ')}`);
    expect(reference.observations().map((o) => o.name).sort()).toEqual(AI_SDK_NAMES);
    expect(got).toEqual(want.map(withoutAgentModel));
    expect(want.some((l) => /^invoke_agent mock-model \| agent \| mock-model \| \{"input":20,"output":10,"total":30\}$/.test(l))).toBe(true);
    expect(ours.stats().spanDuplicates).toBe(0);

    // Input and output travel as Langfuse reads them (the reference keeps them only in metadata.attributes).
    const tool = ours.observations().find((o) => o.name === 'execute_tool weather')!;
    expect(JSON.parse(tool.input!)).toEqual({ city: 'Paris' });
    expect(JSON.parse(tool.output!)).toEqual({ city: 'Paris', sky: 'sunny' });
    const streamed = ours.observations().find((o) => o.name === 'chat mock-model' && o.usageDetails?.input === 7)!;
    expect(streamed.completionStartTime).not.toBeNull();
    expect(streamed.completionStartTime!).toBeGreaterThanOrEqual(streamed.startTime);
    await lfProvider.shutdown();
  });
});

/** The reference: @langfuse/vercel-ai-sdk + LangfuseSpanProcessor in Node, as `shape` lines. */
async function referenceShape(): Promise<string[]> {
  const lfProvider = providerWith(new LangfuseSpanProcessor({ ...keys, baseUrl: reference.url }));
  await runAiSdkScenario(new LangfuseVercelAiSdkIntegration({ tracer: lfProvider.getTracer('gen_ai') }));
  await lfProvider.forceFlush();
  await reference.waitFor((c) => c.observations().length >= AI_SDK_NAMES.length);
  await lfProvider.shutdown();
  return shape(reference.observations());
}

describe('AI SDK 7 in workerd', () => {
  it('the Workers client with OutboxVercelAiSdkIntegration stores what @langfuse/vercel-ai-sdk stores in Node', async () => {
    const want = await referenceShape();
    // Bundled as wrangler bundles (Workers conditions, then the packages' browser builds: `ai`'s gateway imports fs).
    const workerd = await startWorkerd({ entry: 'test/worker/fixtures/ai-sdk-app.ts', browserBuilds: true, bindings: { LANGFUSE_BASE_URL: ours.url } });
    try {
      const res = await workerd.mf.dispatchFetch('http://worker/');
      expect(await res.json()).toEqual(['Sunny in Paris', 'Hello from the stream']);
    } finally {
      await workerd.dispose();
    }
    await ours.waitFor((c) => c.observations().length >= AI_SDK_NAMES.length);
    expect(shape(ours.observations())).toEqual(want.map(withoutAgentModel));
    expect(ours.stats().spanDuplicates).toBe(0);
  });
});

describe('AI SDK 6: experimental_telemetry with createOutboxTracer', () => {
  it('generateText stores the observations LangfuseSpanProcessor stores for the same call', async () => {
    const model = () =>
      new MockLanguageModelV3({
        modelId: 'mock-v3',
        doGenerate: async () => ({
          content: [{ type: 'text', text: 'Outbox keeps every span.' }],
          finishReason: { unified: 'stop', raw: 'stop' },
          usage: { inputTokens: { total: 12, noCache: 12, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 6, text: 6, reasoning: 0 } },
          warnings: [],
        }),
      });
    const lfProvider = providerWith(new LangfuseSpanProcessor({ ...keys, baseUrl: reference.url }));
    await generateText6({ model: model(), prompt: 'What is Outbox?', experimental_telemetry: { isEnabled: true, functionId: 'faq', tracer: lfProvider.getTracer('ai') } });
    await lfProvider.forceFlush();
    const ob = outbox();
    await generateText6({ model: model(), prompt: 'What is Outbox?', experimental_telemetry: { isEnabled: true, functionId: 'faq', tracer: createOutboxTracer(ob) as never } });
    await ob.flush();
    await reference.waitFor((c) => c.observations().length >= 2);
    await ours.waitFor((c) => c.observations().length >= 2);
    const want = shape(reference.observations());
    console.log(`AI SDK 6 reference observations:\n  ${want.join('\n  ')}`);
    expect(shape(ours.observations())).toEqual(want);
    expect(want).toHaveLength(2);
  });
});

// AI SDK 7 in Chromium: the real `ai` package (bundled by esbuild) with MockLanguageModelV4 and
// OutboxVercelAiSdkIntegration, sending through outbox/relay, stores the observations that @langfuse/vercel-ai-sdk +
// LangfuseSpanProcessor store for the same calls in Node (computed here, against a second collector).
import { LangfuseSpanProcessor } from '@langfuse/otel';
import { LangfuseVercelAiSdkIntegration } from '@langfuse/vercel-ai-sdk';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { expect, test } from '@playwright/test';
import { build } from 'esbuild';
import path from 'node:path';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { AI_SDK_NAMES, runAiSdkScenario, shape, withoutAgentModel } from '../integrations/ai-sdk-scenario';
import { BUNDLE, root } from './fixtures/page';
import { RELAY_PK, startRelayApp, type RelayApp } from './fixtures/relay-app';

let app: RelayApp;
let collector: Collector;
let reference: Collector;
let url = '';
let pageScript = '';

test.beforeAll(async () => {
  const bundled = await build({ entryPoints: [path.join(root, 'test/e2e/fixtures/integrations-ai-sdk-page.ts')], bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'error' });
  pageScript = bundled.outputFiles[0]!.text;
  [app, reference] = await Promise.all([
    startRelayApp({
      routes: (pathname, _req, res) => {
        if (pathname !== '/app/ai.js') return false;
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(pageScript);
        return true;
      },
    }),
    startCollector({ langfuse: 'v4' }),
  ]);
  ({ collector, url } = app);
});
test.afterAll(async () => {
  await Promise.all([app?.close(), reference?.close()]);
});

test('generateText with a tool call, then streamText, in a page: the observations @langfuse/vercel-ai-sdk makes in Node', async ({ page }) => {
  const provider = new NodeTracerProvider({ spanProcessors: [new LangfuseSpanProcessor({ publicKey: 'pk', secretKey: 'sk', baseUrl: reference.url })] });
  await runAiSdkScenario(new LangfuseVercelAiSdkIntegration({ tracer: provider.getTracer('gen_ai') }));
  await provider.forceFlush();
  await expect.poll(() => reference.observations().length).toBe(AI_SDK_NAMES.length);
  await provider.shutdown();
  const want = shape(reference.observations());

  await page.goto(`${url}/fixtures/blank.html`);
  await page.addScriptTag({ url: '/app/ai.js', type: 'module' });
  await page.waitForFunction(() => 'aiSdk' in window);
  const texts = await page.evaluate(async ({ bundle, pk }) => {
    const { createOutbox } = await import(bundle);
    const outbox = createOutbox({ relay: '/lf', publicKey: pk, flushInterval: 1 });
    const texts = await (window as unknown as { aiSdk: { run(o: unknown): Promise<string[]> } }).aiSdk.run(outbox);
    await outbox.flush();
    return texts;
  }, { bundle: BUNDLE, pk: RELAY_PK });
  expect(texts).toEqual(['Sunny in Paris', 'Hello from the stream']);
  await expect.poll(() => collector.observations().length, { timeout: 15_000 }).toBe(AI_SDK_NAMES.length);
  expect(shape(collector.observations())).toEqual(want.map(withoutAgentModel));
  expect(collector.observations().every((o) => o.arrivals === 1)).toBe(true);
});

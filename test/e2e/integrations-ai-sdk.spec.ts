// AI SDK 7 in Chromium: the real `ai` package (bundled by esbuild) with MockLanguageModelV4 and
// OutboxVercelAiSdkIntegration, sending through outbox/relay, stores the observations that @langfuse/vercel-ai-sdk +
// LangfuseSpanProcessor store for the same calls in Node (computed here, against a second collector).
import { LangfuseSpanProcessor } from '@langfuse/otel';
import { LangfuseVercelAiSdkIntegration } from '@langfuse/vercel-ai-sdk';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { expect, test } from '@playwright/test';
import { build } from 'esbuild';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { createRelay, toNodeListener } from '../../src/relay';
import { AI_SDK_NAMES, runAiSdkScenario, shape, withoutAgentModel } from '../integrations/ai-sdk-scenario';
import { BUNDLE, root } from './fixtures/page';

const PK = 'pk-lf-ai-e2e';
const SK = 'sk-lf-ai-e2e';
let collector: Collector;
let reference: Collector;
let server: http.Server;
let url = '';
let pageScript = '';

test.beforeAll(async () => {
  const bundled = await build({ entryPoints: [path.join(root, 'test/e2e/fixtures/integrations-ai-sdk-page.ts')], bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'error' });
  pageScript = bundled.outputFiles[0]!.text;
  [collector, reference] = await Promise.all([startCollector({ langfuse: 'v4', publicKeys: [PK], secretKeys: [SK] }), startCollector({ langfuse: 'v4' })]);
  const relay = toNodeListener(createRelay({ upstream: { baseUrl: collector.url, publicKey: PK, secretKey: SK } }));
  server = http.createServer(async (req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://app').pathname;
    if (pathname.startsWith('/lf/')) return relay(req, res);
    if (pathname === '/app/ai.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(pageScript);
    if (pathname === '/fixtures/blank.html') return void res.writeHead(200, { 'content-type': 'text/html' }).end(await readFile(path.join(root, 'test/e2e/fixtures/blank.html')));
    if (pathname.startsWith('/dist/')) {
      try {
        return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(await readFile(path.join(root, pathname.slice(1))));
      } catch {
        /* 404 below */
      }
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
test.afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await Promise.all([collector?.close(), reference?.close()]);
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
  const texts = await page.evaluate(async (bundle) => {
    const { createOutbox } = await import(bundle);
    const outbox = createOutbox({ relay: '/lf', publicKey: 'pk-lf-ai-e2e', flushInterval: 1 });
    const texts = await (window as unknown as { aiSdk: { run(o: unknown): Promise<string[]> } }).aiSdk.run(outbox);
    await outbox.flush();
    return texts;
  }, BUNDLE);
  expect(texts).toEqual(['Sunny in Paris', 'Hello from the stream']);
  await expect.poll(() => collector.observations().length, { timeout: 15_000 }).toBe(AI_SDK_NAMES.length);
  expect(shape(collector.observations())).toEqual(want.map(withoutAgentModel));
  expect(collector.observations().every((o) => o.arrivals === 1)).toBe(true);
});

// The real `openai` package's browser build (bundled by esbuild, dangerouslyAllowBrowser) in Chromium, against a local
// OpenAI-compatible server on the page's origin (demo/llm/server.mjs: the one fake, for api.openai.com), wrapped by
// outbox/openai and sending through outbox/relay to the collector in Langfuse v4 mode (Langfuse's OTLP conversion,
// keeping every arrival so duplicates are counted). The app must see exactly what it sees without the wrapper.
import { expect, test } from '@playwright/test';
import { build } from 'esbuild';
import path from 'node:path';
import type { Collector } from '../../demo/collector/server.mjs';
import { createLlmListener } from '../../demo/llm/server.mjs';
import { BUNDLE, root } from './fixtures/page';
import { RELAY_PK, startRelayApp, type RelayApp } from './fixtures/relay-app';

let app: RelayApp;
let collector: Collector;
let url = '';
let pageScript = '';

test.beforeAll(async () => {
  const bundled = await build({
    entryPoints: [path.join(root, 'test/e2e/fixtures/integrations-openai-page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'error',
  });
  pageScript = bundled.outputFiles[0]!.text;
  const llm = createLlmListener({ delayMs: 10 });
  app = await startRelayApp({
    routes: (pathname, req, res) => {
      if (pathname.startsWith('/llm/')) return (llm(req, res), true);
      if (pathname !== '/app/llm.js') return false;
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(pageScript);
      return true;
    },
  });
  ({ collector, url } = app);
});
test.afterAll(() => app?.close());

test('observeOpenAI in a page: streamed, non-streamed, an error, an aborted stream → one generation each through the relay; the app sees the same values', async ({ page }) => {
  await page.goto(`${url}/fixtures/blank.html`);
  await page.addScriptTag({ url: '/app/llm.js', type: 'module' });
  await page.waitForFunction(() => 'llm' in window);
  const { plain, wrapped } = await page.evaluate(async ({ bundle, pk }) => {
    const { createOutbox } = await import(bundle);
    const outbox = createOutbox({ relay: '/lf', publicKey: pk, flushInterval: 1 });
    const llm = (window as unknown as { llm: { run(o?: unknown): Promise<string[]> } }).llm;
    const plain = await llm.run();
    const wrapped = await llm.run(outbox);
    await outbox.flush();
    return { plain, wrapped };
  }, { bundle: BUNDLE, pk: RELAY_PK });

  // The app receives the same results and chunks with and without the wrapper.
  expect(wrapped).toEqual(plain);
  expect(JSON.parse(plain[1]!).length).toBeGreaterThan(5);
  expect(plain[2]).toContain('404');
  expect(JSON.parse(plain[3]!).slice(0, 3)).toHaveLength(3);

  await expect.poll(() => collector.observations().length, { timeout: 15_000 }).toBeGreaterThanOrEqual(4);
  const gens = [...collector.observations()].sort((a, b) => a.startTime - b.startTime);
  expect(gens).toHaveLength(4);
  // Each exactly once: the collector counts every arrival of a span id.
  expect(gens.map((g) => g.arrivals)).toEqual([1, 1, 1, 1]);
  expect(collector.stats().spanDuplicates).toBe(0);
  const [whole, streamed, failed, aborted] = gens;
  for (const g of gens) expect(g).toMatchObject({ type: 'generation', name: 'OpenAI.chat', trace: { name: 'page-chat', userId: 'page-user' } });
  expect(whole).toMatchObject({ model: 'gpt-4o-mini-2026-01-01', usageDetails: { input_cached_tokens: 2, output_reasoning_tokens: 1 }, completionStartTime: null });
  expect(streamed).toMatchObject({ model: 'gpt-4o-mini', output: 'You said: Stream from the page', level: 'DEFAULT' });
  expect(streamed!.usageDetails).toMatchObject({ input_cached_tokens: 2, output_reasoning_tokens: 1 });
  expect(streamed!.usageDetails!.total).toBeGreaterThan(0);
  expect(streamed!.completionStartTime).toBeGreaterThanOrEqual(streamed!.startTime);
  expect(streamed!.completionStartTime).toBeLessThan(streamed!.endTime);
  expect(failed).toMatchObject({ level: 'ERROR', model: 'missing-model' });
  expect(failed!.statusMessage).toContain('404');
  expect(aborted).toMatchObject({ level: 'WARNING', model: 'slow-model' });
  expect(aborted!.statusMessage).toMatch(/^aborted/);
  expect(aborted!.completionStartTime).not.toBeNull();
});

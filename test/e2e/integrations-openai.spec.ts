// The real `openai` package's browser build (bundled by esbuild, dangerouslyAllowBrowser) in Chromium, against a local
// OpenAI-compatible server on the page's origin (demo/llm/server.mjs: the one fake, for api.openai.com), wrapped by
// outbox/openai and sending through outbox/relay to the collector in Langfuse v4 mode (Langfuse's OTLP conversion,
// keeping every arrival so duplicates are counted). The app must see exactly what it sees without the wrapper.
import { expect, test } from '@playwright/test';
import { build } from 'esbuild';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { createLlmListener } from '../../demo/llm/server.mjs';
import { createRelay, toNodeListener } from '../../src/relay';
import { BUNDLE, root } from './fixtures/page';

const PK = 'pk-lf-openai-e2e';
const SK = 'sk-lf-openai-e2e';
let collector: Collector;
let server: http.Server;
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
  collector = await startCollector({ langfuse: 'v4', publicKeys: [PK], secretKeys: [SK] });
  const relay = toNodeListener(createRelay({ upstream: { baseUrl: collector.url, publicKey: PK, secretKey: SK } }));
  const llm = createLlmListener({ delayMs: 10 });
  server = http.createServer(async (req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://app').pathname;
    if (pathname.startsWith('/lf/')) return relay(req, res);
    if (pathname.startsWith('/llm/')) return llm(req, res);
    if (pathname === '/app/llm.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(pageScript);
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
  await collector?.close();
});

test('observeOpenAI in a page: streamed, non-streamed, an error, an aborted stream → one generation each through the relay; the app sees the same values', async ({ page }) => {
  await page.goto(`${url}/fixtures/blank.html`);
  await page.addScriptTag({ url: '/app/llm.js', type: 'module' });
  await page.waitForFunction(() => 'llm' in window);
  const { plain, wrapped } = await page.evaluate(async (bundle) => {
    const { createOutbox } = await import(bundle);
    const outbox = createOutbox({ relay: '/lf', publicKey: 'pk-lf-openai-e2e', flushInterval: 1 });
    const llm = (window as unknown as { llm: { run(o?: unknown): Promise<string[]> } }).llm;
    const plain = await llm.run();
    const wrapped = await llm.run(outbox);
    await outbox.flush();
    return { plain, wrapped };
  }, BUNDLE);

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

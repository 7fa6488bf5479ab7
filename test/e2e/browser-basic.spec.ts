import { expect, test } from '@playwright/test';
import path from 'node:path';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';

const root = path.resolve(import.meta.dirname, '../..');
/** The self-contained ESM build a page imports; passed into page.evaluate (a literal would be resolved by tsc). */
const BUNDLE = '/dist/outbox.browser.js';
let collector: Collector;

test.beforeAll(async () => {
  collector = await startCollector({
    staticDirs: [
      { prefix: '/dist/', dir: path.join(root, 'dist') },
      { prefix: '/fixtures/', dir: path.join(root, 'test/e2e/fixtures') },
    ],
  });
});
test.afterAll(() => collector.close());
test.beforeEach(() => collector.reset());

test('the built ESM bundle batches events from a real page to the collector', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${collector.url}/fixtures/blank.html`);
  const result = await page.evaluate(async (bundle) => {
    const { createOutbox } = await import(bundle);
    const outbox = createOutbox({ endpoint: '/api/public/ingestion', publicKey: 'pk-page', flushAt: 10, maxBatchEvents: 10, flushInterval: 60 });
    for (let i = 0; i < 25; i++) outbox.track('click', { i });
    await outbox.flush();
    return outbox.stats();
  }, BUNDLE);
  expect(result).toMatchObject({ sent: 25, queued: 0 });
  expect(collector.requests().map((r) => r.count)).toEqual([10, 10, 5]);
  expect(collector.events().map((e) => (e.body as { i: number }).i)).toEqual([...Array(25).keys()]);
  expect(errors).toEqual([]);
});

test('in a page, a secretKey is refused at creation and hostile bodies never throw', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${collector.url}/fixtures/blank.html`);
  const result = await page.evaluate(async (bundle) => {
    const { createOutbox } = await import(bundle);
    let refused = '';
    try {
      createOutbox({ endpoint: '/api/public/ingestion', secretKey: 'sk' });
    } catch (e) {
      refused = (e as Error).message;
    }
    const drops: unknown[] = [];
    const outbox = createOutbox({ endpoint: '/api/public/ingestion', onDrop: (d: unknown) => drops.push(d) });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    outbox.track('circ', circular);
    outbox.track('big', { n: BigInt(1) });
    outbox.track('fine', { ok: true });
    await outbox.shutdown();
    return { refused, drops, stats: outbox.stats() };
  }, BUNDLE);
  expect(result.refused).toMatch(/secretKey must not be used in a browser page/);
  expect(result.stats.sent).toBe(1);
  expect(result.stats.dropped.invalid).toBe(2);
  expect(errors).toEqual([]);
});

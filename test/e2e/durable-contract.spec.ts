import { expect, test } from '@playwright/test';
import { build } from 'esbuild';
import path from 'node:path';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { storageContract } from '../helpers/storage-contract';
import { root, staticDirs } from './fixtures/durable-helpers';

const out = path.join(root, 'test-results', 'durable-contract');
let collector: Collector;

test.beforeAll(async () => {
  // A test-only bundle of the contract cases + the IndexedDB store, built from source (not into dist/).
  await build({
    entryPoints: [path.join(root, 'test/e2e/fixtures/durable-contract.ts')],
    outfile: path.join(out, 'contract.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'warning',
  });
  collector = await startCollector({ staticDirs: [...staticDirs, { prefix: '/contract/', dir: out }] });
});
test.afterAll(() => collector.close());

test('the shared storage contract passes on real IndexedDB with real Web Locks', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${collector.url}/fixtures/blank.html`);
  const results = await page.evaluate(async (src) => (await import(src)).run(), '/contract/contract.js');
  // Every case runs (none skipped: this store has every feature) and passes.
  expect(results).toEqual(storageContract.map((c) => ({ name: c.name, result: 'ok' })));
  expect(errors).toEqual([]);
});

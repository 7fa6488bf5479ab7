// The integrations are subpaths of their own: the client's bundles (script tag, ESM page, Workers, service worker)
// contain none of their modules, so a page that does not import one pays nothing for it.
import { build } from 'esbuild';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

describe('integration modules stay out of the client bundles', () => {
  for (const [entry, platform] of [['script.ts', 'browser'], ['index.ts', 'browser'], ['worker.ts', 'neutral'], ['outbox-sw.ts', 'browser'], ['node.ts', 'node']] as const) {
    it(`src/${entry}`, async () => {
      const result = await build({
        entryPoints: [path.join(root, 'src', entry)],
        bundle: true,
        write: false,
        metafile: true,
        format: 'esm',
        platform,
        external: ['cloudflare:*'],
        conditions: platform === 'neutral' ? ['workerd', 'worker', 'browser'] : [],
        logLevel: 'error',
      });
      const inputs = Object.keys(result.metafile.inputs);
      expect(inputs.some((i) => i.startsWith('src/'))).toBe(true); // the check sees our modules at all
      expect(inputs.filter((i) => i.startsWith('src/integrations/') || /(openai|ai-sdk|chrome-ai)\.ts$/.test(i) || i.includes('node_modules/@ai-sdk/'))).toEqual([]);
    });
  }
});

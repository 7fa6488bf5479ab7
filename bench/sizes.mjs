// Sizes of the shipped bundles in dist/: raw, minified (esbuild, for the unminified library builds) and min+gzip -9,
// with the budget .size-limit.mjs holds beside each bundle it checks; and each entry rebuilt with zod left external
// (esbuild `external: ['zod', 'zod/*']`): what Outbox adds to an app that already ships zod 4.
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, transform } from 'esbuild';

/**
 * The budgets (min+gzip bytes) of .size-limit.mjs, read from it so that they are never a second copy: file in dist/
 * → bytes. Only the checks of one shipped file with a KiB limit count (not the import scenarios).
 */
async function budgets(root) {
  const checks = (await import(pathToFileURL(path.join(root, '.size-limit.mjs')).href)).default;
  const out = {};
  for (const c of checks) {
    const m = /^([\d.]+) KiB$/.exec(c.limit ?? '');
    if (m && !c.import && typeof c.path === 'string' && c.path.startsWith('dist/')) out[c.path.slice(5)] = Math.round(Number(m[1]) * 1024);
  }
  return out;
}

/**
 * @param {string} dist absolute path of dist/
 * @returns {Promise<{ file: string, bytes: number, minBytes: number, minGzipBytes: number, budgetBytes?: number }[]>}
 */
export async function bundleSizes(dist) {
  const budget = await budgets(path.dirname(dist));
  const out = [];
  for (const file of readdirSync(dist).filter((f) => f.endsWith('.js')).sort()) {
    const code = readFileSync(path.join(dist, file), 'utf8');
    // The library builds (index.js, node.js, worker.js, sw.js) are shipped unminified for the user's bundler;
    // minify them the way a bundler would, so every row is comparable.
    const min = (await transform(code, { minify: true, format: 'esm', legalComments: 'none', target: 'es2022' })).code;
    const smaller = min.length < code.length ? min : code;
    out.push({ file, bytes: code.length, minBytes: smaller.length, minGzipBytes: gzipSync(smaller, { level: 9 }).length, budgetBytes: budget[file] });
  }
  return out;
}

/** The entries an app bundles itself, as scripts/build.mjs builds them (platform, conditions). */
const ENTRIES = [
  { entry: 'index.ts', as: 'outbox (browser)', platform: 'browser' },
  { entry: 'worker.ts', as: 'outbox/worker', platform: 'neutral', conditions: ['workerd', 'worker', 'browser'] },
  { entry: 'node.ts', as: 'outbox (node)', platform: 'node' },
  { entry: 'sw.ts', as: 'outbox/sw', platform: 'browser' },
  { entry: 'relay.ts', as: 'outbox/relay', platform: 'neutral', conditions: ['workerd', 'worker', 'browser'] },
];

/**
 * Each entry bundled and minified with every dependency in, and again with zod external: min+gzip -9 of both and
 * the difference (the zod code Outbox pulls in).
 * @param {string} root the repository
 */
export async function zodExternalSizes(root) {
  const sizeOf = async (e, external) => {
    const result = await build({
      entryPoints: [path.join(root, 'src', e.entry)],
      bundle: true,
      minify: true,
      write: false,
      format: 'esm',
      platform: e.platform,
      target: 'es2020',
      mainFields: ['module', 'main'],
      conditions: e.conditions ?? [],
      external: ['cloudflare:*', ...external],
      define: { 'process.env.NODE_ENV': '"production"' },
      legalComments: 'none',
      logLevel: 'error',
    });
    const code = result.outputFiles[0].contents; // no outfile, no sourcemap: the one output
    return { minBytes: code.length, minGzipBytes: gzipSync(code, { level: 9 }).length };
  };
  const out = [];
  for (const e of ENTRIES) {
    const all = await sizeOf(e, []);
    const withoutZod = await sizeOf(e, ['zod', 'zod/*']);
    out.push({ entry: e.entry, as: e.as, all, zodExternal: withoutZod, zodMinGzipBytes: all.minGzipBytes - withoutZod.minGzipBytes });
  }
  return out;
}

// Sizes of the shipped bundles in dist/: raw, minified (esbuild, for the unminified library builds) and min+gzip -9.
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { transform } from 'esbuild';

/**
 * @param {string} dist absolute path of dist/
 * @returns {Promise<{ file: string, bytes: number, minBytes: number, minGzipBytes: number }[]>}
 */
export async function bundleSizes(dist) {
  const out = [];
  for (const file of readdirSync(dist).filter((f) => f.endsWith('.js')).sort()) {
    const code = readFileSync(path.join(dist, file), 'utf8');
    // The library builds (index.js, node.js, worker.js, sw.js) are shipped unminified for the user's bundler;
    // minify them the way a bundler would, so every row is comparable.
    const min = (await transform(code, { minify: true, format: 'esm', legalComments: 'none', target: 'es2022' })).code;
    const smaller = min.length < code.length ? min : code;
    out.push({ file, bytes: code.length, minBytes: smaller.length, minGzipBytes: gzipSync(smaller, { level: 9 }).length });
  }
  return out;
}

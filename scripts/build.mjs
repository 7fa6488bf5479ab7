// Builds dist/: ESM entries for bundlers (dependencies external), self-contained browser bundles, and .d.ts.
// Prints each shipped file's min+gzip size. Usage: node scripts/build.mjs [--no-types]
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync, mkdirSync, readFileSync, writeFileSync, existsSync, renameSync } from 'node:fs';
import { minify } from 'terser';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const finalDist = path.join(root, 'dist');
// Build into a private folder and swap it in at the end, so a build never leaves dist/ half-written for a
// test or a demo that is reading it.
const dist = path.join(root, `.dist-build-${process.pid}`);
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const entry = (name) => path.join(root, 'src', name);
// `cloudflare:*` modules exist only in workerd (src/worker.ts imports 'cloudflare:workers' dynamically).
const common = { bundle: true, sourcemap: true, legalComments: 'none', logLevel: 'warning', external: ['cloudflare:*'] };

/** Library builds: ESM, dependencies left as imports for the user's bundler. */
const library = [
  { in: 'index.ts', out: 'index.js', platform: 'browser' },
  { in: 'node.ts', out: 'node.js', platform: 'node' },
  { in: 'worker.ts', out: 'worker.js', platform: 'neutral' },
  { in: 'sw.ts', out: 'sw.js', platform: 'browser' },
  { in: 'relay.ts', out: 'relay.js', platform: 'neutral' },
  { in: 'otel.ts', out: 'otel.js', platform: 'neutral' }, // the OTel packages stay imports (optional peers)
  // LLM integrations, each a subpath of its own (a page that does not import one does not load it):
  { in: 'openai.ts', out: 'openai.js', platform: 'neutral' },
  { in: 'ai-sdk.ts', out: 'ai-sdk.js', platform: 'neutral' }, // @ai-sdk/otel stays an import (optional peer)
  { in: 'chrome-ai.ts', out: 'chrome-ai.js', platform: 'browser' },
];
/** Self-contained, minified builds that load straight into a page, a worker or a service worker. */
const bundles = [
  { in: 'script.ts', out: 'outbox.global.js', format: 'iife', platform: 'browser' },
  { in: 'index.ts', out: 'outbox.browser.js', format: 'esm', platform: 'browser' },
  { in: 'worker.ts', out: 'outbox.worker.js', format: 'esm', platform: 'neutral' },
  { in: 'outbox-sw.ts', out: 'outbox-sw.js', format: 'iife', platform: 'browser' },
  // The README's stub snippet, as a file; minified by esbuild alone, since docs/browser.md and the fixtures quote it.
  { in: 'outbox-stub.js', out: 'outbox-stub.js', format: 'esm', platform: 'browser', minifier: 'esbuild' },
  // Not shipped (package.json `files` leaves dist/testing/ out): the browser bundle plus durableStorageOf, for the
  // specs, benchmarks and the demo that inspect a client's IndexedDB storage.
  { in: 'testing.ts', out: 'testing/outbox.browser.js', format: 'esm', platform: 'browser' },
];

const built = [];
for (const b of library) {
  if (!existsSync(entry(b.in))) continue;
  await build({
    ...common,
    entryPoints: [entry(b.in)],
    outfile: path.join(dist, b.out),
    format: 'esm',
    platform: b.platform,
    target: 'es2022',
    packages: 'external',
    mainFields: ['module', 'main'],
  });
  built.push(b.out);
}
for (const b of bundles) {
  if (!existsSync(entry(b.in))) continue;
  const outfile = path.join(dist, b.out);
  // esbuild bundles and folds syntax; terser then compresses and renames local variables (never properties: the
  // names a user sees while debugging stay the source's). Terser's passes make the bundles about 5 % smaller
  // gzipped than esbuild's own minifier (issue 20: global 32.27 → 30.5 kB, Workers 29.33 → 27.9 kB).
  const result = await build({
    ...common,
    entryPoints: [entry(b.in)],
    outfile,
    write: false,
    format: b.format,
    platform: b.platform,
    target: 'es2020',
    ...(b.minifier === 'esbuild' ? { minify: true } : { minifySyntax: true }),
    mainFields: ['module', 'main'],
    conditions: b.platform === 'neutral' ? ['workerd', 'worker', 'browser'] : [],
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const text = (suffix) => result.outputFiles.find((f) => f.path.endsWith(suffix)).text;
  const minified =
    b.minifier === 'esbuild'
      ? { code: text('.js'), map: text('.js.map') }
      : await minify(text('.js'), {
          module: b.format === 'esm',
          ecma: 2020,
          compress: { passes: 3 },
          mangle: true,
          format: { comments: false },
          sourceMap: { content: text('.js.map'), url: `${path.basename(b.out)}.map` },
        });
  mkdirSync(path.dirname(outfile), { recursive: true });
  writeFileSync(outfile, minified.code);
  writeFileSync(`${outfile}.map`, minified.map);
  built.push(b.out);
}

if (!process.argv.includes('--no-types')) await buildTypes();

/**
 * Declarations: tsc emits per-file .d.ts into a scratch folder (three configs: the DOM one, the service worker's
 * WebWorker one, the Workers one), then rollup-plugin-dts bundles one self-contained .d.ts per `types` path named in
 * package.json's `exports` (./dist/X.d.ts from src/X.ts), so they resolve under nodenext, node16 and bundler alike
 * (no extensionless relative imports) and each runtime condition gets its own. `@internal` members are stripped.
 */
async function buildTypes() {
  const { rollup } = await import('rollup');
  const { dts } = await import('rollup-plugin-dts');
  const scratch = path.join(dist, '.types');
  const tsc = (args) => execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), ...args, '--stripInternal', '--outDir', scratch], { stdio: 'inherit' });
  tsc(['-p', path.join(root, 'tsconfig.build.json')]);
  // The service-worker entry needs the WebWorker lib instead of DOM: its own config (tsconfig.sw.json).
  tsc(['-p', path.join(root, 'tsconfig.sw.json'), '--noEmit', 'false', '--declaration', '--emitDeclarationOnly']);
  // The Workers entry needs @cloudflare/workers-types instead of DOM: its own config (tsconfig.worker.json).
  tsc(['-p', path.join(root, 'tsconfig.worker.json'), '--noEmit', 'false', '--declaration', '--emitDeclarationOnly', '--rootDir', path.join(root, 'src')]);
  const typesPaths = new Set();
  const collect = (node) => {
    if (typeof node !== 'object' || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'types' && typeof value === 'string') typesPaths.add(value);
      else collect(value);
    }
  };
  collect(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).exports);
  for (const typesPath of typesPaths) {
    const rel = path.posix.relative('dist', path.posix.normalize(typesPath)); // e.g. "worker.d.ts"
    const bundle = await rollup({
      input: path.join(scratch, rel),
      plugins: [dts()],
      onwarn(warning) {
        throw new Error(`declarations for ${typesPath}: ${warning.message}`);
      },
    });
    await bundle.write({ file: path.join(dist, rel), format: 'es' });
    await bundle.close();
  }
  rmSync(scratch, { recursive: true, force: true });
}

const old = path.join(root, `.dist-old-${process.pid}`);
if (existsSync(finalDist)) renameSync(finalDist, old);
renameSync(dist, finalDist);
rmSync(old, { recursive: true, force: true });

console.log('dist/ built:');
for (const file of built) {
  const code = readFileSync(path.join(finalDist, file));
  const gz = gzipSync(code, { level: 9 }).length;
  console.log(`  ${file.padEnd(20)} ${String(code.length).padStart(7)} B   gzip ${String(gz).padStart(6)} B`);
}

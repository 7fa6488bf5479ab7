// Size budgets: runs `size-limit` (budgets and scenarios in .size-limit.mjs; run after `node scripts/build.mjs`),
// exit 1 when a bundle is over its budget. `--analyze` adds what each self-contained bundle is made of (esbuild
// metafile: zod, idb-keyval, our modules), minified bytes by input.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sizeLimit = spawnSync(process.execPath, [path.join(root, 'node_modules/size-limit/bin.js')], { cwd: root, stdio: 'inherit' });

const BUNDLES = [
  { file: 'outbox.global.js', entry: 'src/script.ts', format: 'iife', platform: 'browser' },
  { file: 'outbox.worker.js', entry: 'src/worker.ts', format: 'esm', platform: 'neutral' },
  { file: 'outbox-sw.js', entry: 'src/outbox-sw.ts', format: 'iife', platform: 'browser' },
];
if (process.argv.includes('--analyze')) {
  for (const b of BUNDLES) {
    // The settings of scripts/build.mjs's self-contained bundles.
    const result = await build({
      entryPoints: [path.join(root, b.entry)],
      bundle: true,
      minify: true,
      write: false,
      metafile: true,
      format: b.format,
      platform: b.platform,
      target: 'es2020',
      mainFields: ['module', 'main'],
      conditions: b.platform === 'neutral' ? ['workerd', 'worker', 'browser'] : [],
      external: ['cloudflare:*'],
      define: { 'process.env.NODE_ENV': '"production"' },
      legalComments: 'none',
      logLevel: 'error',
    });
    const inputs = Object.values(result.metafile.outputs).find((o) => o.entryPoint)?.inputs ?? {};
    const groups = new Map();
    for (const [name, info] of Object.entries(inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(name)?.[1];
      const key = pkg ?? name.replace(/^src\//, '');
      groups.set(key, (groups.get(key) ?? 0) + info.bytesInOutput);
    }
    console.log(`\n${b.file}: minified bytes by input (before gzip)`);
    for (const [key, bytes] of [...groups].sort((x, y) => y[1] - x[1])) console.log(`  ${String(bytes).padStart(7)}  ${key}`);
  }
}
process.exit(sizeLimit.status ?? 1);

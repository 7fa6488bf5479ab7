/**
 * The examples as a user gets them: the package is packed once (`npm pack`, or the tarball scripts/check-package.mjs
 * left in test-results/package/), and every folder of examples/ is copied into one app
 * (test-results/example-app/<example>/) that installs the tarball with `npm install <tarball>` (its dependencies come
 * from the npm cache; the examples' other dependencies — esbuild, OpenTelemetry, @langfuse/tracing, the types —
 * resolve from the repository's node_modules above it). Prepared once per tarball: a second call with the same
 * tarball reuses the app.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pack } from '../../scripts/check-package.mjs';

export const root = path.resolve(import.meta.dirname, '../..');
export const appDir = path.join(root, 'test-results', 'example-app');
export const EXAMPLES = ['node', 'otel', 'worker', 'page-relay', 'script-tag', 'service-worker'] as const;

function existingTarball(): string | undefined {
  const dir = path.join(root, 'test-results', 'package');
  if (!existsSync(dir)) return undefined;
  const file = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  return file && path.join(dir, file);
}

/** Returns the app folder, ready: examples copied, the tarball installed, browser/server bundles built. */
export function prepareExampleApp(): string {
  const tarball = existingTarball() ?? pack();
  // Reused only while the tarball, the examples and the checks are unchanged.
  const hash = createHash('sha256').update(readFileSync(tarball));
  for (const dir of ['examples', 'test/examples/checks', 'docs']) {
    for (const file of (readdirSync(path.join(root, dir), { recursive: true }) as string[]).sort()) {
      const full = path.join(root, dir, file);
      if (!/node_modules|[\\/]dist[\\/]/.test(full) && statSync(full).isFile()) hash.update(file).update(readFileSync(full));
    }
  }
  hash.update(readFileSync(path.join(root, 'README.md')));
  const stamp = hash.digest('hex');
  const ready = path.join(appDir, '.ready');
  if (existsSync(ready) && readFileSync(ready, 'utf8') === stamp) return appDir;
  rmSync(appDir, { recursive: true, force: true });
  mkdirSync(appDir, { recursive: true });
  for (const name of EXAMPLES) {
    cpSync(path.join(root, 'examples', name), path.join(appDir, name), {
      recursive: true,
      filter: (src) => !/[\\/](node_modules|dist)$/.test(src),
    });
  }
  cpSync(path.join(root, 'test/examples/checks'), path.join(appDir, 'checks'), { recursive: true });
  writeSnippets();
  writeFileSync(path.join(appDir, 'package.json'), JSON.stringify({ name: 'outbox-example-app', private: true, type: 'module' }, null, 2));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', tarball], { cwd: appDir, stdio: 'pipe' });
  for (const name of ['page-relay', 'service-worker']) execFileSync(process.execPath, ['build.mjs'], { cwd: path.join(appDir, name), stdio: 'pipe' });
  writeFileSync(ready, stamp);
  return appDir;
}

export type SnippetEnv = 'node' | 'worker' | 'page' | 'service worker';

/**
 * Every ```ts block of README.md and docs/*.md that imports from 'outbox' becomes a file of the app
 * (snippets/<doc>-<n>.ts), listed with the runtime whose globals it needs in snippets/index.json, so that the
 * type-check compiles it with the examples: a snippet a user copies must compile as written.
 */
function writeSnippets(): void {
  const docs = ['README.md', ...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const index: { file: string; env: SnippetEnv; from: string }[] = [];
  mkdirSync(path.join(appDir, 'snippets'), { recursive: true });
  for (const doc of docs) {
    const text = readFileSync(path.join(root, doc), 'utf8');
    let n = 0;
    for (const match of text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
      const code = match[1]!;
      if (!/from 'outbox(\/[a-z-]+)?'/.test(code)) continue;
      n++;
      const line = text.slice(0, match.index).split('\n').length;
      const file = `snippets/${doc.replace(/\//g, '-').replace(/\.md$/, '')}-${n}.ts`;
      writeFileSync(path.join(appDir, file), `// ${doc}:${line}\n${code}`);
      index.push({ file, env: snippetEnv(code, doc), from: `${doc}:${line}` });
    }
  }
  writeFileSync(path.join(appDir, 'snippets', 'index.json'), JSON.stringify(index, null, 2));
}

/** Which runtime a snippet is written for, read off its imports (a page unless it shows otherwise). */
function snippetEnv(code: string, doc: string): SnippetEnv {
  if (/from 'outbox\/worker'/.test(code)) return 'worker';
  if (/from 'outbox\/sw'/.test(code)) return 'service worker';
  if (/from '(node:|outbox\/otel|outbox\/relay|@opentelemetry\/sdk-trace-node)/.test(code) || /createOutbox\(\)|process\.env/.test(code) || doc === 'docs/node.md') return 'node';
  return 'page';
}

/** The snippet files prepareExampleApp() wrote, with their runtime. */
export function snippets(): { file: string; env: SnippetEnv; from: string }[] {
  return JSON.parse(readFileSync(path.join(appDir, 'snippets', 'index.json'), 'utf8'));
}

// examples/ as a user meets them: the packed tarball installed into a fresh app (app.ts), each example
// type-checked under moduleResolution nodenext, node16 and bundler WITHOUT skipLibCheck (zero errors, also inside
// node_modules/outbox), the checks/ files proving the types did not fall back to `any`, and the Node, OpenTelemetry
// and Worker examples run against the real collector (Langfuse v4 mode). The page examples run in Chromium:
// test/e2e/examples.spec.ts.
import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { startWorkerd } from '../helpers/workerd';
import { appDir, prepareExampleApp, root, snippets } from './app';

const run = promisify(execFile);

/** The four kinds of code the examples hold, each with the globals of its runtime and no other. */
const ENVS = {
  node: {
    lib: ['ES2022'],
    types: ['node'],
    files: ['node/trace.ts', 'otel/trace.ts', 'page-relay/src/server.ts', 'service-worker/src/server.ts', 'checks/node.ts'],
  },
  worker: { lib: ['ES2022'], types: ['@cloudflare/workers-types'], conditions: ['workerd'], files: ['worker/src/index.ts', 'checks/worker.ts'] },
  page: {
    lib: ['ES2022', 'DOM', 'DOM.Iterable'],
    types: [],
    conditions: ['browser'],
    files: ['page-relay/src/page.ts', 'service-worker/src/page.ts', 'checks/browser.ts'],
  },
  'service worker': { lib: ['ES2022', 'WebWorker'], types: [], conditions: ['browser'], files: ['service-worker/src/sw.ts', 'checks/sw.ts'] },
} as const satisfies Record<string, { lib: readonly string[]; types: readonly string[]; conditions?: readonly string[]; files: readonly string[] }>;

const RESOLUTIONS = {
  nodenext: { module: 'nodenext', moduleResolution: 'nodenext' },
  node16: { module: 'node16', moduleResolution: 'node16' },
  bundler: { module: 'esnext', moduleResolution: 'bundler' },
} as const;

const KEYS = { LANGFUSE_PUBLIC_KEY: 'pk-lf-example', LANGFUSE_SECRET_KEY: 'sk-lf-example' };

let collector: Collector;

beforeAll(async () => {
  prepareExampleApp();
  collector = await startCollector({ langfuse: 'v4', publicKeys: [KEYS.LANGFUSE_PUBLIC_KEY], secretKeys: [KEYS.LANGFUSE_SECRET_KEY] });
}, 180_000);
afterAll(async () => {
  await collector?.close();
});

/** Runs tsc on one tsconfig written into the app; resolves with its output ('' when clean). */
async function typecheck(env: keyof typeof ENVS, resolution: keyof typeof RESOLUTIONS): Promise<string> {
  const e = ENVS[env];
  // A Node program bundled with moduleResolution bundler must name the node condition (bundler resolution sets no
  // runtime condition, so `outbox` would resolve to the page's types).
  const conditions = 'conditions' in e ? e.conditions : resolution === 'bundler' ? ['node'] : undefined;
  const config = {
    compilerOptions: {
      target: 'ES2022',
      ...RESOLUTIONS[resolution],
      lib: e.lib,
      types: e.types,
      ...(conditions ? { customConditions: conditions } : {}),
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      noUnusedLocals: true,
    },
    // The README's and docs' snippets that import outbox, with the examples of their runtime.
    files: [...e.files, ...snippets().filter((s) => s.env === env).map((s) => s.file)],
  };
  const file = path.join(appDir, `tsconfig.${env.replace(' ', '-')}.${resolution}.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  try {
    await run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', file], { cwd: appDir });
    return '';
  } catch (error) {
    const out = String((error as { stdout?: string }).stdout || error);
    // @langfuse/core 5.11.1's own declarations (pulled in by the OpenTelemetry example's @langfuse/tracing) do not
    // compile without skipLibCheck: TS2708 at `typeof <namespace>` lines. Not ours; every other error counts.
    return out
      .split('\n')
      .filter((line) => line.trim() !== '' && !/^(\.\.\/)*node_modules\/@langfuse\/core\/dist\/index\.d\.ts\(\d+,\d+\): error TS2708:/.test(line))
      .join('\n');
  }
}

describe('examples type-check against the packed package, without skipLibCheck', () => {
  it('the README and docs have snippets that import outbox, one per runtime at least', () => {
    const found = snippets();
    expect(new Set(found.map((s) => s.env))).toEqual(new Set(['node', 'worker', 'page', 'service worker']));
    expect(found.filter((s) => s.from.startsWith('README.md')).length).toBeGreaterThanOrEqual(5);
  });

  for (const resolution of Object.keys(RESOLUTIONS) as (keyof typeof RESOLUTIONS)[]) {
    it(`moduleResolution ${resolution}: node, worker (no DOM), page, service worker; README and docs snippets`, async () => {
      const envs = Object.keys(ENVS) as (keyof typeof ENVS)[];
      const outputs: string[] = [];
      // Two at a time: the machine has two cores.
      for (let i = 0; i < envs.length; i += 2) outputs.push(...(await Promise.all(envs.slice(i, i + 2).map((env) => typecheck(env, resolution)))));
      expect(outputs.join('')).toBe('');
    }, 120_000);
  }
});

describe('the packed declarations match the packed code', () => {
  it("every value an entry's .d.ts exports exists in its .js, and nothing the .js exports is untyped (Node's view)", async () => {
    const pkgDir = path.join(appDir, 'node_modules/outbox');
    const { exports } = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    const pairs = new Map<string, string>(); // .js → .d.ts, per condition and subpath
    const collect = (node: unknown): void => {
      if (typeof node !== 'object' || node === null) return;
      const o = node as Record<string, unknown>;
      if (typeof o.types === 'string' && typeof o.default === 'string') pairs.set(o.default, o.types);
      for (const v of Object.values(o)) collect(v);
    };
    collect(exports);
    expect(pairs.size).toBeGreaterThanOrEqual(6);
    const mismatches: string[] = [];
    for (const [js, dts] of pairs) {
      // outbox/sw is for bundlers only: workbox-background-sync's ESM imports omit file extensions, which Node refuses.
      if (js.endsWith('/sw.js')) continue;
      const runtime = Object.keys(await import(pathToFileURL(path.join(pkgDir, js)).href)).sort();
      const text = readFileSync(path.join(pkgDir, dts), 'utf8');
      const typed = [...text.matchAll(/^export \{([^}]*)\};/gm)].flatMap((m) => m[1]!.split(',').map((n) => n.trim().split(' as ').pop()!)).filter(Boolean).sort();
      if (JSON.stringify(runtime) !== JSON.stringify(typed)) mismatches.push(`${js} exports ${runtime.join(',')}; ${dts} types ${typed.join(',')}`);
    }
    expect(mismatches).toEqual([]);
  });
});

/** Bundles an example's Node entry (packages left as imports, resolved from the app) and runs it with `env`. */
async function runNodeExample(entry: string, env: Record<string, string>): Promise<string> {
  const outfile = path.join(appDir, '.run', entry.replace(/\//g, '-').replace(/\.ts$/, '.mjs'));
  mkdirSync(path.dirname(outfile), { recursive: true });
  await build({ entryPoints: [path.join(appDir, entry)], outfile, bundle: true, format: 'esm', platform: 'node', packages: 'external', logLevel: 'error' });
  const { stdout, stderr } = await run(process.execPath, [outfile], { cwd: appDir, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 });
  return stdout + stderr;
}

describe('examples run against the collector (Langfuse v4)', () => {
  it('node: a chat turn with a generation and a score, configured from LANGFUSE_* only', async () => {
    collector.reset();
    const out = await runNodeExample('node/trace.ts', { ...KEYS, LANGFUSE_BASE_URL: collector.url });
    expect(out).toContain('sent 3 records, dropped 0');
    const turn = collector.observations({ name: 'chat-turn' });
    expect(turn).toHaveLength(1);
    expect(turn[0]!.trace).toMatchObject({ name: 'support-chat', userId: 'user-42', sessionId: 'session-7' });
    const [answer] = collector.observations({ name: 'answer' });
    expect(answer).toMatchObject({ type: 'generation', model: 'gpt-4o-mini', traceId: turn[0]!.traceId, parentObservationId: turn[0]!.id });
    expect(answer!.usageDetails).toMatchObject({ input: 12, output: 11 });
    expect(collector.scores({ traceId: turn[0]!.traceId }).map((s) => [s.name, s.value])).toEqual([['answer-relevance', 0.9]]);
  }, 90_000);

  it('otel: @langfuse/tracing spans through OutboxSpanProcessor', async () => {
    collector.reset();
    const out = await runNodeExample('otel/trace.ts', { ...KEYS, LANGFUSE_BASE_URL: collector.url });
    expect(out).toContain('sent 2 spans, dropped 0');
    const [turn] = collector.observations({ name: 'chat-turn' });
    expect(turn).toBeDefined();
    const [answer] = collector.observations({ name: 'answer' });
    expect(answer).toMatchObject({ type: 'generation', model: 'gpt-4o-mini', traceId: turn!.traceId, parentObservationId: turn!.id });
    expect(collector.stats().observationsStored).toBe(2);
  }, 90_000);

  it('worker: withOutbox<Env> in workerd sends the request trace and score after the response', async () => {
    collector.reset();
    const workerd = await startWorkerd({
      entry: path.relative(root, path.join(appDir, 'worker/src/index.ts')),
      bindings: { ...KEYS, LANGFUSE_BASE_URL: collector.url, GREETING: 'Hi' },
    });
    try {
      const response = await workerd.mf.dispatchFetch('http://example.test/ask?q=hello');
      expect(await response.text()).toBe('Hi from the Worker');
      const [turn] = await collector.waitFor((c) => (c.observations({ name: 'handle-request' }).length === 1 ? c.observations({ name: 'handle-request' }) : null), 20_000);
      expect(turn!.trace.name).toBe('worker-request');
      expect(turn!.environment).toBe('production');
      await collector.waitFor((c) => c.scores({ traceId: turn!.traceId }).length === 1, 20_000);
      const [answer] = collector.observations({ name: 'answer' });
      expect(answer).toMatchObject({ type: 'generation', output: 'Hi from the Worker' });
    } finally {
      await workerd.dispose();
    }
  }, 90_000);
});

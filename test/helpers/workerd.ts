/**
 * Runs a Worker fixture in real workerd (miniflare 4) for a test file: bundles it with esbuild as wrangler would
 * (Workers conditions, `cloudflare:*` external) into a temporary folder, starts Miniflare with the given bindings
 * and Queues, and disposes of both afterwards.
 */
import { build } from 'esbuild';
import { Log, LogLevel, Miniflare, type MiniflareOptions } from 'miniflare';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

export interface WorkerdOptions {
  /** The fixture, relative to the repository root. */
  entry: string;
  bindings?: Record<string, string>;
  queueProducers?: MiniflareOptions['queueProducers'];
  queueConsumers?: MiniflareOptions['queueConsumers'];
  /** Bundle the packages' browser builds (the OTel SDK's Node builds import os, fs, child_process). @default false */
  browserBuilds?: boolean;
  /** Listen on a real socket on 127.0.0.1 too (tests that fetch() the Worker over HTTP). @default false */
  socket?: boolean;
  /** Compatibility flags (with `nodejs_compat` or `nodejs_als`, Node built-ins such as `node:async_hooks` stay imports). */
  compatibilityFlags?: string[];
}

export interface Workerd {
  mf: Miniflare;
  /** The socket's origin when `socket` was asked for. */
  origin?: string;
  dispose(): Promise<void>;
}

export async function startWorkerd(o: WorkerdOptions): Promise<Workerd> {
  const outDir = mkdtempSync(path.join(tmpdir(), 'outbox-workerd-'));
  const scriptPath = path.join(outDir, path.basename(o.entry).replace(/\.ts$/, '.mjs'));
  await build({
    entryPoints: [path.join(root, o.entry)],
    outfile: scriptPath,
    bundle: true,
    format: 'esm',
    platform: o.browserBuilds ? 'browser' : 'neutral',
    target: 'es2022',
    mainFields: o.browserBuilds ? ['browser', 'module', 'main'] : ['module', 'main'],
    conditions: o.browserBuilds ? ['workerd', 'worker', 'browser'] : ['workerd', 'worker'],
    external: o.compatibilityFlags?.some((f) => f === 'nodejs_compat' || f === 'nodejs_als') ? ['cloudflare:*', 'node:*'] : ['cloudflare:*'],
    logLevel: 'error',
  });
  const mf = new Miniflare({
    modules: true,
    modulesRoot: outDir, // module names are relative to it; a path outside the cwd cannot use '..'
    scriptPath,
    compatibilityDate: '2025-09-01',
    ...(o.compatibilityFlags ? { compatibilityFlags: o.compatibilityFlags } : {}),
    cf: false, // no Request.cf from the internet
    ...(o.socket ? { host: '127.0.0.1', port: 0 } : {}),
    bindings: o.bindings ?? {},
    ...(o.queueProducers ? { queueProducers: o.queueProducers } : {}),
    ...(o.queueConsumers ? { queueConsumers: o.queueConsumers } : {}),
    log: new Log(LogLevel.WARN),
  });
  const url = await mf.ready;
  return {
    mf,
    origin: o.socket ? url.origin : undefined,
    async dispose() {
      await mf.dispose();
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}

// In workerd (miniflare): the response latency a request sees with `withOutbox` (tracking 3 events) against a
// plain worker. Outbox's sends go to ctx.waitUntil after the response, so the difference should be ≈ 0.
import { existsSync, mkdtempSync, copyFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { summarize } from './stats.mjs';

const PLAIN = `export default { async fetch(request) { return new Response('ok ' + new URL(request.url).pathname); } };`;
const WITH_OUTBOX = `import { withOutbox } from './outbox.worker.mjs';
export default withOutbox((env) => ({ endpoint: env.ENDPOINT, publicKey: 'pk-bench' }), {
  async fetch(request, env, ctx, outbox) {
    const path = new URL(request.url).pathname;
    outbox.track('request', { path });
    outbox.track('span-create', { name: 'handler', path });
    outbox.track('span-update', { name: 'handler', ok: true });
    return new Response('ok ' + path);
  },
});`;

/** Median latency (ms) of `n` sequential GETs over a real socket, after `warm` unmeasured ones. */
async function latency(url, n, warm) {
  const times = [];
  for (let i = 0; i < n + warm; i++) {
    const t0 = performance.now();
    const res = await fetch(new URL(`/r${i}`, url));
    await res.text();
    if (i >= warm) times.push(performance.now() - t0);
  }
  return summarize(times).median;
}

/**
 * @param {string} dist absolute path of dist/
 * @param {{ endpoint: string, waitEvents: (n: number) => Promise<number> }} collector
 */
export async function measureWorkerd(dist, collector, { runs = 5, requests = 200, warm = 30 } = {}) {
  const bundle = path.join(dist, 'outbox.worker.js');
  if (!existsSync(bundle)) return { missing: 'dist/outbox.worker.js does not exist' };
  const { Miniflare, Log, LogLevel } = await import('miniflare');
  const dir = mkdtempSync(path.join(tmpdir(), 'outbox-bench-'));
  copyFileSync(bundle, path.join(dir, 'outbox.worker.mjs')); // miniflare treats .js as CommonJS
  writeFileSync(path.join(dir, 'plain.mjs'), PLAIN);
  writeFileSync(path.join(dir, 'with-outbox.mjs'), WITH_OUTBOX);
  const start = async (script) => {
    const mf = new Miniflare({
      modules: true,
      scriptPath: path.join(dir, script),
      modulesRoot: dir, // module names are relative to it; the default (cwd) would need '..' to reach tmpdir
      compatibilityDate: '2025-09-01',
      bindings: { ENDPOINT: collector.endpoint },
      cf: false,
      host: '127.0.0.1',
      port: 0,
      log: new Log(LogLevel.WARN),
    });
    return { mf, url: await mf.ready };
  };
  const plain = await start('plain.mjs');
  const withOutbox = await start('with-outbox.mjs');
  try {
    const a = [];
    const b = [];
    const added = [];
    for (let r = 0; r < runs; r++) {
      // Interleaved, so drift in machine load hits both alike.
      const p = await latency(plain.url, requests, warm);
      const o = await latency(withOutbox.url, requests, warm);
      a.push(p);
      b.push(o);
      added.push(o - p);
    }
    const expected = runs * (requests + warm) * 3;
    const delivered = await collector.waitEvents(expected);
    return {
      requestsPerRun: requests,
      plainMs: summarize(a),
      withOutboxMs: summarize(b),
      addedMsPerRequest: summarize(added),
      eventsTracked: expected,
      eventsDelivered: delivered,
    };
  } finally {
    await plain.mf.dispose();
    await withOutbox.mf.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

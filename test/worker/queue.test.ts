// withOutbox({ queue }) in real workerd with a real Cloudflare Queues binding: while Langfuse (the collector in
// v4 mode) is down, what a Worker cannot deliver inside its waitUntil budget goes to the queue, and
// outboxQueueConsumer delivers it once Langfuse is back — nothing dropped.
import { build } from 'esbuild';
import { Log, LogLevel, Miniflare } from 'miniflare';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';

const root = path.resolve(import.meta.dirname, '../..');
let collector: Collector;
let mf: Miniflare;
let outDir: string;

beforeAll(async () => {
  collector = await startCollector({ langfuse: 'v4' });
  outDir = mkdtempSync(path.join(tmpdir(), 'outbox-queue-worker-'));
  const scriptPath = path.join(outDir, 'queue-app.mjs');
  await build({
    entryPoints: [path.join(root, 'test/worker/fixtures/queue-app.ts')],
    outfile: scriptPath,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker'],
    external: ['cloudflare:*'],
    logLevel: 'error',
  });
  mf = new Miniflare({
    modules: true,
    modulesRoot: outDir,
    scriptPath,
    compatibilityDate: '2025-09-01',
    cf: false,
    bindings: { LANGFUSE_BASE_URL: collector.url, LANGFUSE_PUBLIC_KEY: 'pk-lf-q', LANGFUSE_SECRET_KEY: 'sk-lf-q' },
    queueProducers: { OUTBOX_QUEUE: { queueName: 'outbox-worker' } },
    queueConsumers: { 'outbox-worker': { maxBatchSize: 10, maxBatchTimeout: 0, maxRetries: 100 } },
    log: new Log(LogLevel.WARN),
  });
  await mf.ready;
});

afterAll(async () => {
  await mf?.dispose();
  await collector?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

describe('withOutbox({ queue }) in workerd', () => {
  it('Langfuse down while the Worker serves 50 requests: every record is delivered once it is back, none dropped', async () => {
    collector.setFault({ mode: 'down' });
    for (let i = 0; i < 50; i += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, k) => mf.dispatchFetch(`http://worker/turn?req=${i + k}`).then((r) => r.text())));
    }
    // Everything the Worker could not deliver is on the queue now; the consumer keeps retrying against the outage.
    await expect.poll(async () => ((await (await mf.dispatchFetch('http://worker/stats')).json()) as { consumer: { retried: number } }).consumer.retried, { timeout: 15_000 }).toBeGreaterThan(0);
    expect(collector.observations()).toHaveLength(0);
    collector.setFault({ mode: 'none' });
    await collector.waitFor((c) => (c.observations().length === 100 && c.scores().length === 50 ? true : null), 30_000);
    const stats = (await (await mf.dispatchFetch('http://worker/stats')).json()) as { drops: unknown[]; consumer: { gaveUp: number } };
    expect(stats.drops).toEqual([]);
    expect(stats.consumer.gaveUp).toBe(0);
    expect(new Set(collector.observations().map((o) => o.id)).size).toBe(100);
    expect(collector.stats().spanDuplicates).toBe(0);
  });
});

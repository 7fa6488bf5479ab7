// withOutbox({ queue }) in real workerd with a real Cloudflare Queues binding: while Langfuse (the collector in
// v4 mode) is down, what a Worker cannot deliver inside its waitUntil budget goes to the queue, and
// outboxQueueConsumer delivers it once Langfuse is back — nothing dropped.
import type { Miniflare } from 'miniflare';
import { startWorkerd, type Workerd } from '../helpers/workerd';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';

let collector: Collector;
let mf: Miniflare;
let workerd: Workerd;

beforeAll(async () => {
  collector = await startCollector({ langfuse: 'v4' });
  workerd = await startWorkerd({ entry: 'test/worker/fixtures/queue-app.ts', bindings: { LANGFUSE_BASE_URL: collector.url, LANGFUSE_PUBLIC_KEY: 'pk-lf-q', LANGFUSE_SECRET_KEY: 'sk-lf-q' }, queueProducers: { OUTBOX_QUEUE: { queueName: 'outbox-worker' } }, queueConsumers: { 'outbox-worker': { maxBatchSize: 10, maxBatchTimeout: 0, maxRetries: 100 } } });
  mf = workerd.mf;
});

afterAll(async () => {
  await workerd?.dispose();
  await collector?.close();
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

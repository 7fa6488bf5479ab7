import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { createOutbox } from '../../src/node';
import type { DropInfo, Outbox, OutboxOptions } from '../../src/node';
import { expectConservation } from '../helpers/conservation';

let collector: Collector;
let clients: Outbox[] = [];
let drops: DropInfo[] = [];

beforeAll(async () => {
  collector = await startCollector();
});
afterAll(async () => {
  await collector.close();
});
beforeEach(() => {
  collector.reset();
  drops = [];
});
afterEach(async () => {
  // The conservation law holds at the end of every test, and nothing is left running.
  for (const c of clients) {
    await c.shutdown();
    expectConservation(c.stats());
  }
  clients = [];
});

function client(options: Partial<OutboxOptions> = {}): Outbox {
  const c = createOutbox({
    endpoint: collector.endpoint,
    publicKey: 'pk-test',
    flushInterval: 3600,
    retry: { initialDelayMs: 50, maxDelayMs: 200, maxAttempts: 10 },
    onDrop: (info) => drops.push(info),
    ...options,
  });
  clients.push(c);
  return c;
}

const storedIds = () => collector.events().map((e) => e.id);

describe('delivery to the real collector', () => {
  it('25 events at flushAt 10 and maxBatchEvents 10 → requests of 10, 10, 5 after flush()', async () => {
    const outbox = client({ flushAt: 10, maxBatchEvents: 10 });
    const ids = Array.from({ length: 25 }, (_, i) => outbox.track('span-create', { i }));
    await outbox.flush();
    expect(collector.requests().map((r) => r.count)).toEqual([10, 10, 5]);
    expect(storedIds()).toEqual(ids);
    expect(collector.requests().every((r) => r.status === 207 && r.auth === 'bearer')).toBe(true);
    const first = collector.events()[0]!;
    expect(first).toMatchObject({ type: 'span-create', body: { i: 0 } });
    expect(new Date(first.timestamp).toISOString()).toBe(first.timestamp);
    expect(outbox.stats()).toMatchObject({ sent: 25, queued: 0, inflight: 0 });
  });

  it('flushes on the timer without flush()', async () => {
    const outbox = client({ flushAt: 100, flushInterval: 0.2 });
    outbox.track('a');
    outbox.track('b');
    await collector.waitFor((c) => c.stats().eventsStored === 2, 5000);
    expect(outbox.stats().lastFlushReason).toBe('timer');
  });

  it('collector down during 3 flushes, then up → every event stored exactly once; flush() never rejects', async () => {
    const outbox = client({ flushAt: 10 });
    collector.setFault({ mode: 'down' });
    const ids: string[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 10; i++) ids.push(outbox.track('e', { round, i }));
      await expect(outbox.flush()).resolves.toBeUndefined();
    }
    expect(collector.stats().eventsStored).toBe(0);
    expect(outbox.stats().lastError).toMatch(/network error/);
    collector.setFault({ mode: 'none' });
    await collector.waitFor((c) => c.stats().eventsStored === 30, 10_000);
    await outbox.flush();
    expect(new Set(storedIds())).toEqual(new Set(ids));
    expect(collector.stats().eventsStored).toBe(30);
    // The collector stores before the client reads the answer: wait for the acknowledgement, not a tick.
    await expect.poll(() => outbox.stats().sent).toBe(30);
  });

  it('500 twice, then 200 → delivered once, retried twice', async () => {
    const outbox = client({ flushAt: 5 });
    collector.setFault({ mode: 'status', status: 500, times: 2 });
    for (let i = 0; i < 5; i++) outbox.track('e', { i });
    await outbox.flush();
    await collector.waitFor((c) => c.stats().eventsStored === 5, 5000);
    expect(collector.requests().map((r) => r.status)).toEqual([500, 500, 207]);
    await expect.poll(() => outbox.stats()).toMatchObject({ sent: 5, retried: 10 });
  });

  it('429 with Retry-After: 2 → the next attempt is not made before 2 s', async () => {
    const outbox = client({ flushAt: 3 });
    collector.setFault({ mode: 'status', status: 429, retryAfter: '2', times: 1 });
    for (let i = 0; i < 3; i++) outbox.track('e');
    await outbox.flush();
    await collector.waitFor((c) => c.stats().eventsStored === 3, 8000);
    const [first, second] = collector.requests();
    expect(first!.status).toBe(429);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1990);
  });

  it('207 with one id failing 500 and one failing 400 → only the 500 one is resent; the 400 one dropped rejected', async () => {
    const outbox = client({ flushAt: 4 });
    const ids = Array.from({ length: 4 }, (_, i) => outbox.track('e', { i }, { id: `evt-${i}-${Date.now()}` }));
    collector.setFault({ mode: 'fail-ids', ids: { [ids[1]!]: 500, [ids[2]!]: 400 }, times: 1 });
    await outbox.flush();
    await collector.waitFor((c) => c.stats().eventsStored === 3, 5000);
    const reqs = collector.requests();
    expect(reqs).toHaveLength(2);
    expect(reqs[1]!.ids).toEqual([ids[1]]);
    expect(new Set(storedIds())).toEqual(new Set([ids[0], ids[1], ids[3]]));
    const rejected = drops.find((d) => d.reason === 'rejected')!;
    expect(rejected.events.map((e) => e.id)).toEqual([ids[2]]);
    await expect.poll(() => outbox.stats().dropped.rejected).toBe(1);
  });

  it('413 → the batch is split in halves until it fits; nothing lost', async () => {
    const small = await startCollector({ maxBodyBytes: 6000 });
    try {
      const outbox = createOutbox({ endpoint: small.endpoint, flushAt: 16, flushInterval: 3600, onDrop: (i) => drops.push(i) });
      clients.push(outbox);
      const ids = Array.from({ length: 16 }, (_, i) => outbox.track('e', { i, pad: 'x'.repeat(1000) }));
      await outbox.flush();
      await small.waitFor((c) => c.stats().eventsStored === 16, 5000);
      expect(small.requests().some((r) => r.status === 413)).toBe(true);
      expect(new Set(small.events().map((e) => e.id))).toEqual(new Set(ids));
      expect(drops).toEqual([]);
    } finally {
      await small.close();
    }
  });

  it('a lone event over the server limit is dropped too-large, the others delivered', async () => {
    const small = await startCollector({ maxBodyBytes: 3000 });
    try {
      const outbox = createOutbox({ endpoint: small.endpoint, flushAt: 3, flushInterval: 3600, onDrop: (i) => drops.push(i) });
      clients.push(outbox);
      outbox.track('ok', { i: 1 });
      const big = outbox.track('big', { pad: 'x'.repeat(5000) });
      outbox.track('ok', { i: 2 });
      await outbox.flush();
      await small.waitFor((c) => c.stats().eventsStored === 2, 5000);
      await expect.poll(() => drops.find((d) => d.reason === 'too-large')?.events.map((e) => e.id)).toEqual([big]);
    } finally {
      await small.close();
    }
  });

  it('shutdown flushes and awaits; a later track() is dropped with reason shutdown', async () => {
    const outbox = client({ flushAt: 100 });
    collector.setFault({ mode: 'slow', delayMs: 300 });
    for (let i = 0; i < 7; i++) outbox.track('e');
    await outbox.shutdown();
    expect(collector.stats().eventsStored).toBe(7);
    expect(outbox.track('late')).toBe('');
    await new Promise((r) => setTimeout(r, 10));
    expect(drops).toEqual([expect.objectContaining({ reason: 'shutdown', count: 1 })]);
    await outbox.shutdown();
  });

  it('gzip: bodies are compressed and stored the same', async () => {
    const outbox = client({ flushAt: 50, compression: 'gzip' });
    for (let i = 0; i < 50; i++) outbox.track('e', { text: 'repetitive '.repeat(20), i });
    await outbox.flush();
    const [req] = collector.requests();
    expect(req!.contentEncoding).toBe('gzip');
    expect(collector.stats().eventsStored).toBe(50);
    expect(req!.bytes).toBeLessThan(50 * 200 / 4);
  });

  it('secretKey sends Basic auth; headers and metadata are sent', async () => {
    const outbox = client({ flushAt: 1, secretKey: 'sk-test', headers: { 'X-Trace': '1' }, metadata: { release: 'r1' } });
    outbox.track('e');
    await outbox.flush();
    expect(collector.requests()[0]!.auth).toBe('basic');
  });

  it('a request that hangs past requestTimeoutMs is aborted and retried', async () => {
    const outbox = client({ flushAt: 2, requestTimeoutMs: 300 });
    collector.setFault({ mode: 'slow', delayMs: 2000, times: 1 });
    outbox.track('a');
    outbox.track('b');
    await outbox.flush();
    expect(outbox.stats().lastError).toMatch(/timed out after 300 ms/);
    await collector.waitFor((c) => c.stats().eventsStored === 2, 8000);
  });
});

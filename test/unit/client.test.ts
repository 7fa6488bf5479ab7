import { describe, expect, it } from 'vitest';
import { expectConservation } from '../helpers/conservation';
import { makeClient } from '../helpers/make-client';
import { PROBE_EVERY_MS } from '../../src/core/retry';
import { OWN_TASK_BOUND_MS, ownTask } from '../../src/platform/own-task';
import { createIngestionWire } from '../../src/wire/ingestion';
import { createOtlpWire } from '../../src/wire/otlp';

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('flush policy', () => {
  it('a flushAt above maxBatchEvents: the burst goes out whole in batches of maxBatchEvents, the remainder too', async () => {
    const { outbox, transport } = makeClient({ flushAt: 1000, maxBatchEvents: 500, flushInterval: 3600 });
    for (let i = 0; i < 999; i++) outbox.track('e', { i });
    await Promise.resolve();
    await Promise.resolve();
    expect(transport.batches).toHaveLength(0);
    outbox.track('e', { i: 999 });
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(transport.batches.map((b) => b.events.length)).toEqual([500, 500]);
  });

  it('flushAt starts a send, maxBatchEvents bounds it: a burst of 1 200 goes in 3 requests, a trickle at flushAt', async () => {
    const { outbox, transport } = makeClient({ flushAt: 15, flushInterval: 3600 });
    for (let i = 0; i < 1200; i++) outbox.track('e', { i });
    await outbox.flush();
    expect(transport.batches.map((b) => b.events.length)).toEqual([500, 500, 200]);
    for (let i = 0; i < 14; i++) outbox.track('t', { i });
    await Promise.resolve();
    await Promise.resolve();
    expect(transport.batches).toHaveLength(3); // 14 < flushAt: waits
    outbox.track('t', { i: 14 });
    await Promise.resolve();
    await Promise.resolve();
    expect(transport.batches.map((b) => b.events.length)).toEqual([500, 500, 200, 15]);
  });

  it('sends a batch as soon as flushAt events are queued, and the rest on the timer', async () => {
    const { outbox, clock, transport } = makeClient({ flushAt: 10, maxBatchEvents: 10, flushInterval: 5 });
    for (let i = 0; i < 25; i++) outbox.track('e', { i });
    await clock.advance(0);
    expect(transport.batches.map((b) => b.events.length)).toEqual([10, 10]);
    await clock.advance(4999);
    expect(transport.batches).toHaveLength(2);
    await clock.advance(1);
    expect(transport.batches.map((b) => b.events.length)).toEqual([10, 10, 5]);
    expect(outbox.stats().lastFlushReason).toBe('timer');
    expectConservation(outbox.stats());
  });

  it('flush() sends every queued batch, not one, and resolves when they are acknowledged', async () => {
    const { outbox, transport } = makeClient({ flushAt: 10, maxBatchEvents: 10, flushInterval: 3600 });
    for (let i = 0; i < 95; i++) outbox.track('e', { i });
    await outbox.flush();
    expect(transport.batches.map((b) => b.events.length)).toEqual([10, 10, 10, 10, 10, 10, 10, 10, 10, 5]);
    expect(outbox.stats()).toMatchObject({ sent: 95, queued: 0, inflight: 0 });
    // order is kept
    expect(transport.ids()).toHaveLength(95);
    expect(transport.batches.flatMap((b) => b.events.map((e) => JSON.parse(e.line).body.i))).toEqual([...Array(95).keys()]);
  });

  it('cuts batches by bytes before maxBatchBytes', async () => {
    const { outbox, transport } = makeClient({ flushAt: 1000, flushInterval: 3600, maxBatchBytes: 4096, maxEventBytes: 2048 });
    for (let i = 0; i < 20; i++) outbox.track('e', { pad: 'x'.repeat(900) });
    await outbox.flush();
    expect(transport.batches.length).toBeGreaterThan(4);
    for (const b of transport.batches) expect(b.bytes).toBeLessThanOrEqual(4096);
    expect(transport.batches.reduce((n, b) => n + b.events.length, 0)).toBe(20);
  });

  it('measures real UTF-8 bytes: multi-byte text never makes a batch exceed maxBatchBytes', async () => {
    const { outbox, transport } = makeClient({ flushAt: 1000, flushInterval: 3600, maxBatchBytes: 4096, maxEventBytes: 4000 });
    for (let i = 0; i < 30; i++) outbox.track('e', { t: '😀é'.repeat(100) });
    await outbox.flush();
    for (const b of transport.batches) {
      expect(b.bytes).toBe(new TextEncoder().encode(b.body).length);
      expect(b.bytes).toBeLessThanOrEqual(4096);
    }
    expect(outbox.stats().sent).toBe(30);
  });

  it('keeps at most 4 requests in flight and shares one flush between concurrent callers', async () => {
    let open = 0;
    let peak = 0;
    const { outbox, transport } = makeClient({ flushAt: 5, maxBatchEvents: 5, flushInterval: 3600 }, {}, async () => {
      open++;
      peak = Math.max(peak, open);
      await tick();
      open--;
      return { kind: 'ok' };
    });
    for (let i = 0; i < 100; i++) outbox.track('e');
    await Promise.all([outbox.flush(), outbox.flush(), outbox.flush()]);
    expect(peak).toBeLessThanOrEqual(4);
    expect(transport.batches).toHaveLength(20);
    expect(outbox.stats().sent).toBe(100);
  });
});

describe("the client's own task (platform.nextTask, a page)", () => {
  it('the caller pays only for sealing: the write-ahead and the flushAt send run in the task nextTask queued, once', async () => {
    const queued: (() => void)[] = [];
    const appended: string[][] = [];
    const storage = {
      durable: true,
      append: async (events: { id: string }[]) => void appended.push(events.map((e) => e.id)),
      remove: async () => undefined,
      recover: async () => [],
      close: async () => undefined,
    };
    const { outbox, transport, hooks, drops, clock } = makeClient(
      { flushAt: 10, maxBatchEvents: 10, flushInterval: 3600 },
      {
        nextTask: (run) => queued.push(run),
        storage: storage as never,
        wires: {
          ingestion: createIngestionWire({ url: 'http://collector.test/api/public/ingestion', headers: {}, metadata: {} }),
          otlp: createOtlpWire({ url: 'http://collector.test/api/public/otel/v1/traces', headers: {}, gzip: false, resource: { sdkVersion: 'test' } }),
        },
      },
    );
    const body = { n: 1 };
    for (let i = 0; i < 25; i++) outbox.track('e', i === 0 ? body : { i });
    // A span (built whole at end() by trace/, nothing of the caller's in it) is sealed in the client's own task.
    const span = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), name: 'first', kind: 1, startTimeUnixNano: '1', endTimeUnixNano: '2', attributes: [] };
    hooks.push({ id: span.spanId, type: 'span', ts: clock.now(), body: span, wire: 'otlp' });
    for (let i = 0; i < 5; i++) await Promise.resolve();
    body.n = 2; // after the caller's task: the record keeps what the task left
    span.name = 'sealed later';
    expect(queued).toHaveLength(1);
    expect(appended).toEqual([]);
    expect(transport.batches).toHaveLength(0);
    expect(outbox.stats().queued).toBe(26);
    queued.shift()!();
    expect(appended.map((ids) => ids.length)).toEqual([26]); // one write for the burst, the span with it
    expect(transport.batches.map((b) => b.events.length)).toEqual([10, 10]);
    expect(JSON.parse(transport.batches[0]!.events[0]!.line).body).toEqual({ n: 1 });
    expect(drops).toEqual([]);
    expect(JSON.parse(hooks.held().find((e) => e.id === span.spanId)!.line).name).toBe('sealed later');
    // A flush() does not wait for the own task: it writes and sends at once.
    outbox.track('late', {});
    await Promise.resolve();
    expect(queued).toHaveLength(1);
    await outbox.flush();
    expect(appended.map((ids) => ids.length)).toEqual([26, 1]);
    expect(transport.ids()).toHaveLength(27);
    queued.shift()!(); // the own task queued for 'late' finds nothing left to do
    expect(appended).toHaveLength(2);
  });
  it('ownTask runs each function once, after the current task: with scheduler.postTask at background priority, bounded by a timer', async () => {
    const order: string[] = [];
    const next = ownTask(); // Node 20 has no scheduler.postTask: a setTimeout(0) task
    next(() => order.push('a'));
    next(() => order.push('b'));
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(order).toEqual([]); // not a microtask
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(order).toEqual(['a', 'b']);
    // With postTask: whichever comes first, the background task or the bound, runs it, once.
    const posted: (() => void)[] = [];
    (globalThis as Record<string, unknown>).scheduler = { postTask: (run: () => void) => (posted.push(run), Promise.resolve()) };
    try {
      const bounded = ownTask();
      bounded(() => order.push('c'));
      bounded(() => order.push('d'));
      posted[0]!(); // c's background task came first
      expect(order).toEqual(['a', 'b', 'c']);
      await new Promise((resolve) => setTimeout(resolve, OWN_TASK_BOUND_MS + 50)); // d's bound fired
      expect(order).toEqual(['a', 'b', 'c', 'd']);
      posted[1]!(); // d's background task, late: nothing more
      posted[0]!();
      expect(order).toEqual(['a', 'b', 'c', 'd']);
    } finally {
      delete (globalThis as Record<string, unknown>).scheduler;
    }
  });
});

describe('track() never throws', () => {
  it('drops hostile input with a reason and keeps the rest', async () => {
    const { outbox, transport, dropCount, drops } = makeClient({ flushAt: 100, maxEventBytes: 1024 });
    const circular: any = { a: 1 };
    circular.self = circular;
    const ids = [
      outbox.track('ok', { a: 1 }),
      outbox.track('circular', circular),
      outbox.track('bigint', { n: 10n }),
      outbox.track('fn', (() => 1) as unknown),
      outbox.track(42 as unknown as string, {}),
      outbox.track('', {}),
      outbox.track('big', { s: 'x'.repeat(2000) }),
      outbox.track('bad-ts', {}, { timestamp: 'yesterday' }),
      outbox.track('bad-id', {}, { id: 7 as unknown as string }),
      outbox.track('proto', JSON.parse('{"__proto__":{"polluted":true}}')),
      outbox.track('ok', { a: 2 }),
    ];
    expect(ids[0]).toMatch(/-/);
    expect(ids[4]).toBe('');
    await outbox.flush();
    expect(transport.ids()).toEqual([ids[0], ids[9], ids[10]]);
    expect(dropCount('invalid')).toBe(7);
    expect(dropCount('too-large')).toBe(1);
    expect(drops.find((d) => d.reason === 'invalid')!.detail).toMatch(/type must be|JSON/);
    expect(({} as any).polluted).toBeUndefined();
    expectConservation(outbox.stats());
  });

  it('reports drops once per reason per task, not once per event', async () => {
    const { outbox, drops } = makeClient({ maxQueueEvents: 5, flushInterval: 3600, flushAt: 100 });
    for (let i = 0; i < 1000; i++) outbox.track('e');
    await tick();
    expect(drops).toHaveLength(1);
    expect(drops[0]).toMatchObject({ reason: 'queue-full', count: 995 });
    expect(outbox.stats()).toMatchObject({ queued: 5, dropped: expect.objectContaining({ 'queue-full': 995 }) });
  });

  it('survives onDrop and onError callbacks that throw', async () => {
    const { outbox } = makeClient({ onDrop: () => { throw new Error('host bug'); }, maxQueueEvents: 1, flushInterval: 3600 });
    outbox.track('a');
    outbox.track('b');
    await tick();
    expect(outbox.stats().dropped['queue-full']).toBe(1);
  });

  it('accepts the documented timestamp and id forms', async () => {
    const { outbox, transport } = makeClient({ flushAt: 100 });
    outbox.track('a', {}, { timestamp: new Date('2026-01-01T00:00:00Z'), id: 'my-id' });
    outbox.track('b', {}, { timestamp: '2026-01-01T00:00:01Z' });
    outbox.track('c', {}, { timestamp: Date.parse('2026-01-01T00:00:02Z') });
    await outbox.flush();
    const events = transport.batches[0]!.events.map((e) => JSON.parse(e.line));
    expect(events.map((e) => e.timestamp)).toEqual(['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z', '2026-01-01T00:00:02.000Z']);
    expect(events[0].id).toBe('my-id');
  });
});

describe('retry', () => {
  it('backs off after a failed answer and gives up after maxAttempts with retry-exhausted', async () => {
    const { outbox, clock, transport, dropCount } = makeClient({ flushAt: 10, retry: { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 1000 } }, {}, () => ({
      kind: 'retry', network: false, status: 500, error: 'HTTP 500',
    }));
    for (let i = 0; i < 10; i++) outbox.track('e');
    await outbox.flush();
    expect(transport.batches).toHaveLength(1);
    await clock.advance(10_000);
    expect(transport.batches).toHaveLength(3);
    expect(dropCount('retry-exhausted')).toBe(10);
    expect(outbox.stats().retried).toBe(20);
    expectConservation(outbox.stats());
  });

  it('never gives up on network failures, but expires events past maxEventAgeMs', async () => {
    const { outbox, clock, transport, dropCount } = makeClient({ flushAt: 5, maxEventAgeMs: 60_000, retry: { maxAttempts: 1, initialDelayMs: 1000, maxDelayMs: 2000 } }, {}, () => ({
      kind: 'retry', network: true, error: 'offline',
    }));
    for (let i = 0; i < 5; i++) outbox.track('e');
    await outbox.flush();
    await clock.advance(30_000);
    expect(transport.batches.length).toBeGreaterThan(10);
    expect(dropCount('retry-exhausted')).toBe(0);
    await clock.advance(40_000);
    expect(dropCount('expired')).toBe(5);
    expectConservation(outbox.stats());
  });

  it('waits for Retry-After before the next attempt', async () => {
    let n = 0;
    const { outbox, clock, transport } = makeClient({ flushAt: 5 }, {}, () =>
      ++n === 1 ? { kind: 'retry', network: false, status: 429, retryAfterMs: 2000, error: 'HTTP 429' } : { kind: 'ok' },
    );
    for (let i = 0; i < 5; i++) outbox.track('e');
    await outbox.flush();
    await clock.advance(1999);
    expect(transport.batches).toHaveLength(1);
    await clock.advance(1);
    expect(transport.batches).toHaveLength(2);
    expect(outbox.stats().sent).toBe(5);
  });

  it('207: acked ids done, 5xx ids retried, 4xx ids rejected, missing ids retried', async () => {
    let n = 0;
    const { outbox, clock, transport, dropCount } = makeClient({ flushAt: 4, retry: { initialDelayMs: 10, maxDelayMs: 10, maxAttempts: 5 } }, {}, (batch) => {
      if (++n > 1) return { kind: 'ok' };
      const [a, b, c] = batch.events.map((e) => e.id);
      return { kind: 'partial', retry: [b!, batch.events[3]!.id], rejected: [{ id: c!, status: 400, message: 'bad' }] } as const;
      void a;
    });
    const ids = [0, 1, 2, 3].map(() => outbox.track('e'));
    await outbox.flush();
    await clock.advance(100);
    expect(transport.batches[1]!.events.map((e) => e.id)).toEqual([ids[1], ids[3]]);
    expect(dropCount('rejected')).toBe(1);
    expect(outbox.stats().sent).toBe(3);
    expectConservation(outbox.stats());
  });

  it('413 splits the batch in halves; a lone event is dropped too-large', async () => {
    const { outbox, transport, dropCount } = makeClient({ flushAt: 8 }, {}, (batch) =>
      batch.events.length > 2 || batch.events.some((e) => JSON.parse(e.line).body.huge) ? { kind: 'too-large' } : { kind: 'ok' },
    );
    for (let i = 0; i < 7; i++) outbox.track('e', { i });
    outbox.track('e', { huge: true });
    await outbox.flush();
    expect(transport.batches.map((b) => b.events.length).sort()).toEqual([1, 1, 2, 2, 2, 2, 4, 4, 8]);
    expect(outbox.stats().sent).toBe(7);
    expect(dropCount('too-large')).toBe(1);
  });
});

describe('shutdown', () => {
  it('flushes, waits for requests, and drops later track() calls as shutdown', async () => {
    const { outbox, transport, dropCount, clock } = makeClient({ flushAt: 100 }, {}, async () => {
      await tick();
      return { kind: 'ok' };
    });
    for (let i = 0; i < 30; i++) outbox.track('e');
    const done = outbox.shutdown();
    expect(outbox.shutdown()).toBe(done);
    outbox.track('late');
    await done;
    expect(outbox.stats()).toMatchObject({ sent: 30, inflight: 0, queued: 0 });
    outbox.track('later');
    await tick();
    expect(dropCount('shutdown')).toBe(2);
    expect(clock.pending()).toBe(0);
    await outbox.flush();
    expect(transport.batches).toHaveLength(1);
    expectConservation(outbox.stats());
  });

  it('gives every batch one attempt even during backoff, and reports what memory storage loses', async () => {
    const { outbox, transport, dropCount } = makeClient({ flushAt: 5 }, {}, () => ({ kind: 'retry', network: true, error: 'down' }));
    for (let i = 0; i < 10; i++) outbox.track('e');
    await outbox.flush();
    const before = transport.batches.length;
    await outbox.shutdown();
    expect(transport.batches.length).toBeGreaterThan(before);
    expect(dropCount('shutdown')).toBe(10);
    expectConservation(outbox.stats());
  });

  it('methods do not depend on this', async () => {
    const { outbox, transport } = makeClient({ flushAt: 100 });
    const { track, flush } = outbox;
    track('detached');
    await flush();
    expect(transport.batches).toHaveLength(1);
  });
});

describe('recovery after a server outage (probes)', () => {
  it('a 10-minute outage: probes of one record, one at a time, every ≤ PROBE_EVERY_MS; all delivered within one probe interval of recovery', async () => {
    let down = true;
    let inflight = 0;
    let maxInflightWhileDown = 0;
    const { outbox, clock, transport } = makeClient({ flushAt: 20, retry: { initialDelayMs: 1000, maxDelayMs: 60_000, maxAttempts: 10 } }, {}, () => {
      if (down) maxInflightWhileDown = Math.max(maxInflightWhileDown, ++inflight);
      const answer = down ? ({ kind: 'retry', network: true, error: 'connection refused' } as const) : ({ kind: 'ok' } as const);
      if (down) inflight--;
      return answer;
    });
    for (let i = 0; i < 200; i++) {
      outbox.track('e', { i });
      if (i % 20 === 19) await clock.advance(3000); // 200 records over the first 30 s of the outage
    }
    await clock.advance(600_000 - 30_000);
    const duringOutage = transport.batches.length;
    const probes = transport.batches.slice(10); // after the first few backoff rounds, only probes
    expect(probes.every((b) => b.events.length === 1)).toBe(true);
    // Requests in 10 minutes: one probe per [3, 6] s at most (the fake random draws 0.5: every 4.5 s).
    expect(duringOutage).toBeLessThanOrEqual(600_000 / 3000 + 20);
    expect(maxInflightWhileDown).toBe(1);
    down = false;
    const recoveredAt = clock.now();
    const deadline = recoveredAt + PROBE_EVERY_MS;
    while (outbox.stats().sent < 200 && clock.now() < deadline) await clock.advance(100);
    expect(outbox.stats()).toMatchObject({ sent: 200, queued: 0, inflight: 0 });
    expect(clock.now() - recoveredAt).toBeLessThanOrEqual(PROBE_EVERY_MS);
    expectConservation(outbox.stats());
  });
});

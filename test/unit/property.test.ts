/**
 * Property-based robustness of the core client: random sequences of track (valid and hostile bodies, types, ids,
 * options), flush, shutdown, clock advances and transport answers (any SendResult, late answers, a transport that
 * breaks its contract and throws), over no storage, a memory store or a store that fails. After every step:
 * nothing thrown, conservation, the queue within maxQueueEvents, no event acknowledged twice; at the end every
 * flush()/shutdown() promise resolved, nothing left queued or in flight, no unhandled rejection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { assertSeeds } from '../helpers/seeds';
import { makeClient } from '../helpers/make-client';
import { createMemoryStorage } from '../../src/storage/memory';
import type { OutgoingBatch, SendResult, Storage } from '../../src/core/types';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(() => void process.on('unhandledRejection', onUnhandled));
afterAll(() => void process.off('unhandledRejection', onUnhandled));

/** Bodies a host might pass, from plain JSON to things JSON cannot carry or that fight back. */
function hostileBody(kind: number, text: string, n: number): unknown {
  switch (kind) {
    case 0: {
      const circular: Record<string, unknown> = { a: 1 };
      circular.self = circular;
      return circular;
    }
    case 1:
      return { n: BigInt(n) };
    case 2:
      return { pad: 'x'.repeat(300 * 1024) }; // over maxEventBytes (256 KiB)
    case 3: {
      let deep: unknown = { leaf: true };
      for (let i = 0; i < 20_000; i++) deep = { d: deep }; // JSON.stringify overflows the stack
      return deep;
    }
    case 4:
      return { f: () => 1, s: Symbol('s'), u: undefined, d: new Date(n), nan: NaN, inf: -Infinity, map: new Map([[1, 2]]) };
    case 5:
      return `${text}\ud800${text}\udfff\u0000\u2028\u2029\ufeff😀`; // lone surrogates, NUL, separators, BOM
    case 6:
      return JSON.parse(`{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},"t":${JSON.stringify(text)}}`);
    case 7:
      return {
        toJSON() {
          throw new Error('toJSON explodes');
        },
      };
    case 8:
      return new Proxy(
        {},
        {
          ownKeys() {
            throw new Error('ownKeys trap');
          },
        },
      );
    case 9:
      return () => 'a function body';
    case 10:
      return Symbol('body');
    case 11:
      return { get boom() {
        throw new Error('getter');
      } };
    case 12:
      return new Uint8Array([1, 2, 3]);
    case 13:
      return {
        toJSON() {
          throw n % 2 ? null : Object.create(null); // not an Error: no .message, no String()
        },
      };
    default:
      return { text, n, nested: { list: [n, text, null, true] } };
  }
}

/** Types and ids a host might pass: mostly valid, sometimes anything. */
function hostileValue(kind: number, fallback: string): unknown {
  switch (kind) {
    case 0:
      return '';
    case 1:
      return 'x'.repeat(201);
    case 2:
      return 42;
    case 3:
      return Object.create(null); // String() of it throws
    case 4:
      return { toString() {
        throw new Error('toString');
      } };
    case 5:
      return Symbol('t');
    case 6:
      return null;
    default:
      return fallback;
  }
}

function hostileTimestamp(kind: number, n: number): unknown {
  switch (kind) {
    case 0:
      return new Date(NaN);
    case 1:
      return 'not a date';
    case 2:
      return 1e20; // finite, but toISOString throws
    case 3:
      return -8.64e15;
    case 4:
      return { valueOf: () => n };
    case 5:
      return n; // epoch ms, possibly long expired
    default:
      return undefined;
  }
}

type Answer =
  | { kind: 'ok' | 'handed-off' | 'too-large' }
  | { kind: 'retry'; network: boolean; status?: number; retryAfterMs?: number }
  | { kind: 'rejected'; status: number }
  | { kind: 'partial'; picks: number[]; unknown: boolean; dup: boolean }
  | { kind: 'throw' };

const answerArb: fc.Arbitrary<{ answer: Answer; delayMs: number }> = fc.record({
  answer: fc.oneof(
    { weight: 5, arbitrary: fc.constant({ kind: 'ok' as const }) },
    fc.constantFrom({ kind: 'handed-off' as const }, { kind: 'too-large' as const }, { kind: 'throw' as const }),
    fc.record({
      kind: fc.constant('retry' as const),
      network: fc.boolean(),
      status: fc.option(fc.constantFrom(408, 429, 500, 503), { nil: undefined }),
      retryAfterMs: fc.option(fc.oneof(fc.nat(120_000), fc.constant(Number.MAX_SAFE_INTEGER)), { nil: undefined }),
    }),
    fc.record({ kind: fc.constant('rejected' as const), status: fc.constantFrom(400, 401, 403, 404, 422) }),
    fc.record({
      kind: fc.constant('partial' as const),
      picks: fc.array(fc.nat(5), { maxLength: 40 }), // per event: 0–2 ok, 3 retry, 4 rejected, 5 both
      unknown: fc.boolean(),
      dup: fc.boolean(),
    }),
  ),
  delayMs: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, fc.nat(5_000)),
});

/** Turns a scripted answer into the SendResult for this batch, and the ids it acknowledges. */
function resultFor(answer: Answer, batch: OutgoingBatch): { result: SendResult | 'throw'; acked: string[] } {
  const ids = batch.events.map((e) => e.id);
  switch (answer.kind) {
    case 'ok':
    case 'handed-off':
      return { result: { kind: answer.kind }, acked: ids };
    case 'too-large':
      return { result: { kind: 'too-large' }, acked: [] };
    case 'throw':
      return { result: 'throw', acked: [] };
    case 'retry':
      return { result: { kind: 'retry', network: answer.network, status: answer.status, retryAfterMs: answer.retryAfterMs, error: 'scripted' }, acked: [] };
    case 'rejected':
      return { result: { kind: 'rejected', status: answer.status, error: 'scripted' }, acked: [] };
    case 'partial': {
      const retry: string[] = [];
      const rejected: { id: string; status: number; message?: string }[] = [];
      const acked: string[] = [];
      ids.forEach((id, i) => {
        const pick = answer.picks[i % Math.max(1, answer.picks.length)] ?? 0;
        if (pick === 3) retry.push(id);
        else if (pick === 4) rejected.push({ id, status: 400, message: 'scripted' });
        else if (pick === 5) {
          retry.push(id);
          rejected.push({ id, status: 422 });
        } else acked.push(id);
        if (answer.dup && pick === 3) retry.push(id);
        if (answer.dup && pick === 4) rejected.push({ id, status: 400 });
      });
      if (answer.unknown) {
        retry.push('not-in-this-batch');
        rejected.push({ id: 'also-unknown', status: 400 });
      }
      return { result: { kind: 'partial', retry, rejected }, acked };
    }
  }
}

type Step =
  | { op: 'track'; body: number; text: string; n: number; type: number; id: number; ts: number }
  | { op: 'burst'; count: number }
  | { op: 'flush' }
  | { op: 'shutdown' }
  | { op: 'advance'; ms: number }
  | { op: 'microtasks' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constant('track' as const),
      body: fc.nat(21), // 0–13 hostile, the rest plain
      text: fc.string({ unit: 'binary', maxLength: 30 }),
      n: fc.integer({ min: 0, max: 2_000_000_000_000 }),
      type: fc.nat(14),
      id: fc.nat(14),
      ts: fc.nat(12),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('burst' as const), count: fc.integer({ min: 1, max: 120 }) }) },
  { weight: 2, arbitrary: fc.constant({ op: 'flush' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'shutdown' as const }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.oneof(fc.nat(2_000), fc.nat(200_000)) }) },
  { weight: 2, arbitrary: fc.constant({ op: 'microtasks' as const }) },
);

const configArb = fc.record({
  flushAt: fc.integer({ min: 1, max: 30 }),
  maxQueueEvents: fc.integer({ min: 1, max: 200 }),
  maxBatchBytes: fc.constantFrom(2048, 64 * 1024, 512 * 1024),
  maxEventAgeMs: fc.constantFrom(60_000, 7 * 24 * 3600_000),
  maxAttempts: fc.integer({ min: 1, max: 4 }),
  storage: fc.constantFrom('none', 'memory', 'failing'),
  throwingCallbacks: fc.boolean(),
  answers: fc.array(answerArb, { minLength: 1, maxLength: 30 }),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 40 }),
});

/** A storage whose every write fails, as a full or broken IndexedDB would. */
function failingStorage(): Storage {
  return {
    durable: false,
    append: async () => {
      throw new DOMException('quota', 'QuotaExceededError');
    },
    remove: () => Promise.reject(new Error('remove failed')),
    recover: async () => [],
    close: () => Promise.reject(new Error('close failed')),
  };
}

const flushMicrotasks = async () => {
  for (let i = 0; i < 30; i++) await Promise.resolve();
};

describe('core client under random hostile sequences', () => {
  it('never throws, conserves every event, stays bounded and never acknowledges an event twice', async () => {
    await assertSeeds(
      fc.asyncProperty(configArb, async (cfg) => {
        let answerIndex = 0;
        const ackCount = new Map<string, number>();
        const sentAfterAck: string[] = [];
        let clockRef: { setTimeout(fn: () => void, ms: number): unknown } | undefined;

        const storage = cfg.storage === 'memory' ? createMemoryStorage() : cfg.storage === 'failing' ? failingStorage() : undefined;
        const throwing = () => {
          throw new Error('host callback throws');
        };
        const { outbox, clock } = makeClient(
          {
            flushAt: cfg.flushAt,
            flushInterval: 1,
            maxQueueEvents: cfg.maxQueueEvents,
            maxBatchBytes: cfg.maxBatchBytes,
            maxEventBytes: Math.min(256 * 1024, cfg.maxBatchBytes),
            maxEventAgeMs: cfg.maxEventAgeMs,
            retry: { initialDelayMs: 100, maxDelayMs: 10_000, maxAttempts: cfg.maxAttempts },
            ...(cfg.throwingCallbacks ? { onDrop: throwing, onError: throwing } : {}),
          },
          storage ? { storage } : {},
          async (batch) => {
            for (const e of batch.events) if (ackCount.has(e.id)) sentAfterAck.push(e.id);
            const { answer, delayMs } = cfg.answers[answerIndex++ % cfg.answers.length]!;
            const { result, acked } = resultFor(answer, batch);
            if (delayMs > 0) await new Promise<void>((r) => clockRef!.setTimeout(r, delayMs));
            for (const id of acked) ackCount.set(id, (ackCount.get(id) ?? 0) + 1);
            if (result === 'throw') throw new Error('transport broke its contract');
            return result;
          },
        );
        clockRef = clock;

        const settled: Promise<unknown>[] = [];
        let rejected = 0;
        const watch = (p: Promise<unknown>) => {
          settled.push(p.catch(() => void rejected++));
        };
        let customId = 0;

        const check = (where: string) => {
          const s = outbox.stats();
          const dropped = Object.values(s.dropped).reduce((a, b) => a + b, 0);
          const ctx = `${where}: ${JSON.stringify(s)}`;
          expect(s.sent + s.handedOff + s.queued + s.inflight + dropped, ctx).toBe(s.tracked + s.recovered);
          expect(s.queued + s.inflight, ctx).toBeLessThanOrEqual(cfg.maxQueueEvents);
          expect(s.queued, ctx).toBeGreaterThanOrEqual(0);
          expect(s.inflight, ctx).toBeGreaterThanOrEqual(0);
          expect(sentAfterAck, `${ctx}: resent after acknowledgement`).toEqual([]);
          for (const [id, n] of ackCount) expect(n, `${ctx}: ${id} acknowledged ${n}×`).toBe(1);
        };

        for (const [i, step] of cfg.steps.entries()) {
          switch (step.op) {
            case 'track': {
              const type = hostileValue(step.type, 'span-create') as string;
              const id = step.id < 7 ? hostileValue(step.id, '') : step.id < 10 ? `custom-${++customId}` : undefined;
              const timestamp = hostileTimestamp(step.ts, step.n);
              const opts = step.id === 13 ? (new Proxy({}, { get: () => {
                throw new Error('options trap');
              } }) as object) : { id, timestamp };
              let returned: unknown;
              expect(() => {
                returned = outbox.track(type, hostileBody(step.body, step.text, step.n), opts as never);
              }).not.toThrow();
              expect(typeof returned).toBe('string');
              break;
            }
            case 'burst':
              for (let k = 0; k < step.count; k++) outbox.track('burst', { k, text: 'é✓' });
              break;
            case 'flush':
              watch(outbox.flush());
              break;
            case 'shutdown':
              watch(outbox.shutdown());
              break;
            case 'advance':
              await clock.advance(step.ms);
              break;
            case 'microtasks':
              await flushMicrotasks();
              break;
          }
          check(`step ${i} (${step.op})`);
        }

        // The end: shut down, letting time pass so late answers arrive; everything must settle.
        const done = outbox.shutdown();
        watch(done);
        let finished = false;
        void done.then(() => (finished = true));
        for (let k = 0; k < 200 && !finished; k++) await clock.advance(10_000);
        expect(finished, 'shutdown() resolved').toBe(true);
        await Promise.all(settled);
        expect(rejected, 'flush()/shutdown() rejections').toBe(0);
        check('after shutdown');
        const s = outbox.stats();
        expect(s.inflight).toBe(0);
        expect(s.queued).toBe(0); // memory-only: whatever is left is dropped 'shutdown', counted
        expect(s.sent + s.handedOff).toBe(ackCount.size);
        expect(() => outbox.track('late', {})).not.toThrow();
        expect(outbox.stats().dropped.shutdown).toBe(s.dropped.shutdown + 1);
      }),
      150,
    );
    expect(unhandled).toEqual([]);
  }, 120_000);

  it('liveness: against a collector that always acknowledges, one flush() sends or drops (with a reason) every event', async () => {
    const trackArb = fc.record({ body: fc.nat(21), text: fc.string({ unit: 'binary', maxLength: 20 }), n: fc.nat(), type: fc.nat(14), ts: fc.nat(12) });
    await assertSeeds(
      fc.asyncProperty(fc.array(trackArb, { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 20 }), async (tracks, flushAt) => {
        const { outbox, transport } = makeClient({ flushAt, flushInterval: 3600 });
        for (const t of tracks) {
          outbox.track(hostileValue(t.type, 'span-create') as string, hostileBody(t.body, t.text, t.n), { timestamp: hostileTimestamp(t.ts, Date.now()) as never });
        }
        await outbox.flush();
        const s = outbox.stats();
        const dropped = Object.values(s.dropped).reduce((a, b) => a + b, 0);
        expect(s, JSON.stringify(s)).toMatchObject({ queued: 0, inflight: 0, retried: 0 });
        expect(s.sent + dropped).toBe(tracks.length);
        expect(s.dropped.shutdown + s.dropped['retry-exhausted'] + s.dropped.rejected + s.dropped['queue-full']).toBe(0);
        expect(transport.ids()).toHaveLength(s.sent);
        for (const b of transport.batches) expect(() => JSON.parse(b.body)).not.toThrow(); // every body is valid JSON
        await outbox.shutdown();
      }),
      150,
    );
    expect(unhandled).toEqual([]);
  }, 60_000);
});

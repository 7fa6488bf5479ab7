/**
 * Fuzz of the real fetch transport (src/transport/fetch.ts) against a fake `fetch` that answers with real
 * `Response` objects: any status, Retry-After junk, malformed/truncated JSON, 207 bodies with unknown, missing,
 * duplicate or mistyped ids, rejected fetches (connection reset, a fetch that throws synchronously), bodies that
 * stall until the request timeout aborts them. Whatever happens, send() resolves one valid SendResult.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { assertSeeds } from '../helpers/seeds';
import { createFetchTransport } from '../../src/transport/fetch';
import { createIngestionWire } from '../../src/wire/ingestion';
import type { OutgoingBatch, SendResult } from '../../src/core/types';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(() => void process.on('unhandledRejection', onUnhandled));
afterAll(() => void process.off('unhandledRejection', onUnhandled));

function batchOf(n: number, url = 'http://collector.test/api/public/ingestion', headers: Record<string, string> = {}): OutgoingBatch {
  const events = Array.from({ length: n }, (_, i) => ({ id: `id-${i}`, type: 't', ts: 0, line: `{"id":"id-${i}"}` }));
  const body = `{"batch":[${events.map((e) => e.line).join(',')}],"metadata":{}}`;
  return { batchId: 'b', wire: createIngestionWire({ url, headers, metadata: {} }), events, body, bytes: body.length };
}

/** Throws unless `r` is a SendResult the client can act on, consistent with the batch's ids. */
function assertValid(r: SendResult, ids: string[]): void {
  const known = new Set(ids);
  expect(r && typeof r === 'object', 'an object').toBe(true);
  switch (r.kind) {
    case 'ok':
    case 'handed-off':
    case 'too-large':
      return;
    case 'retry':
      expect(typeof r.network).toBe('boolean');
      expect(typeof r.error).toBe('string');
      if (r.retryAfterMs !== undefined) {
        expect(typeof r.retryAfterMs).toBe('number');
        expect(Number.isNaN(r.retryAfterMs)).toBe(false);
        expect(r.retryAfterMs).toBeGreaterThanOrEqual(0);
      }
      return;
    case 'rejected':
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(typeof r.error).toBe('string');
      return;
    case 'partial': {
      expect(Array.isArray(r.retry) && Array.isArray(r.rejected)).toBe(true);
      expect(r.retry.length + r.rejected.length).toBeGreaterThan(0);
      for (const id of r.retry) expect(known.has(id), `retry id ${id} is in the batch`).toBe(true);
      for (const x of r.rejected) {
        expect(known.has(x.id), `rejected id ${x.id} is in the batch`).toBe(true);
        expect(Number.isFinite(x.status)).toBe(true);
      }
      const all = [...r.retry, ...r.rejected.map((x) => x.id)];
      expect(new Set(all).size, 'no id both retried and rejected, none twice').toBe(all.length);
      return;
    }
    default:
      throw new Error(`unknown SendResult ${JSON.stringify(r)}`);
  }
}

type Body =
  | { t: 'text'; text: string }
  | { t: 'json'; value: unknown }
  | { t: 'truncated'; value: unknown; cut: number }
  | { t: 'stall'; prefix: string } // sends a prefix, then nothing until aborted
  | { t: 'error-mid'; prefix: string }; // the body stream errors (connection reset mid-body)

type Scenario =
  | { t: 'respond'; status: number; retryAfter: string | null; queued: boolean; body: Body; delayMs: number }
  | { t: 'reject'; how: 'reset' | 'sync-throw' | 'non-error' | 'hang' };

const idArb = (n: number) =>
  fc.oneof(fc.nat(n + 2).map((i) => `id-${i}`), fc.constantFrom<unknown>(null, 42, {}, ['id-0'], ''), fc.string({ maxLength: 6 }));
const entryArb = (n: number) =>
  fc.oneof(
    fc.record({ id: idArb(n), status: fc.oneof(fc.integer({ min: -5, max: 700 }), fc.constantFrom<unknown>('500', null, 'x', 1e309, NaN)), message: fc.option(fc.oneof(fc.string(), fc.nat()), { nil: undefined }) }, { requiredKeys: [] }),
    fc.constantFrom<unknown>(null, 1, 'id-0', []),
  );
const multiStatusArb = (n: number) =>
  fc.record(
    {
      successes: fc.oneof(fc.array(entryArb(n), { maxLength: n + 4 }), fc.constantFrom<unknown>(null, {}, 'x')),
      errors: fc.oneof(fc.array(entryArb(n), { maxLength: n + 4 }), fc.constantFrom<unknown>(null, {}, 7)),
    },
    { requiredKeys: [] },
  );

const retryAfterArb = fc.oneof(
  fc.constant(null),
  fc.constantFrom('0', '1', '120', '-5', '1.5', 'soon', 'Wed, 21 Oct 2015 07:28:00 GMT', 'Fri, 31 Dec 9999 23:59:59 GMT', '9'.repeat(400), ' 3 ', 'NaN', 'Infinity', '1e3', ''),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
);

const scenarioArb = (n: number): fc.Arbitrary<Scenario> =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        t: fc.constant('respond' as const),
        status: fc.oneof(fc.constantFrom(200, 201, 202, 204, 207, 207, 207, 301, 400, 401, 408, 413, 429, 500, 503), fc.integer({ min: 200, max: 599 })),
        retryAfter: retryAfterArb,
        queued: fc.boolean(),
        body: fc.oneof(
          fc.record({ t: fc.constant('json' as const), value: multiStatusArb(n) }),
          fc.record({ t: fc.constant('truncated' as const), value: multiStatusArb(n), cut: fc.nat(200) }),
          fc.record({ t: fc.constant('text' as const), text: fc.oneof(fc.string(), fc.constantFrom('', 'null', '[]', '"x"', '{', '{"successes":', '\u0000\ud800')) }),
          fc.record({ t: fc.constant('json' as const), value: fc.jsonValue({ maxDepth: 3 }) }),
          fc.record({ t: fc.constant('stall' as const), prefix: fc.constantFrom('', '{"successes":[', '{}') }),
          fc.record({ t: fc.constant('error-mid' as const), prefix: fc.constantFrom('', '{"successes":[{"id":"id-0"') }),
        ),
        delayMs: fc.constantFrom(0, 0, 1, 50), // 50 > timeoutMs: the answer comes too late
      }),
    },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('reject' as const), how: fc.constantFrom('reset' as const, 'sync-throw' as const, 'non-error' as const, 'hang' as const) }) },
  );

const NULL_BODY = new Set([204, 205, 304]);

/** A fetch that behaves like the platform's: honours the abort signal while waiting and while streaming the body. */
function fakeFetch(s: Scenario): typeof fetch {
  return ((_url: string, init: RequestInit) => {
    const signal = init.signal!;
    const abortError = () => (signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError'));
    if (s.t === 'reject') {
      if (s.how === 'sync-throw') throw new TypeError('fetch threw synchronously');
      if (s.how === 'non-error') return Promise.reject(Object.create(null));
      if (s.how === 'reset') return Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) }));
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(abortError())));
    }
    return new Promise<Response>((resolve, reject) => {
      const answer = () => {
        if (signal.aborted) return reject(abortError());
        const headers = new Headers();
        if (s.retryAfter !== null) headers.set('Retry-After', s.retryAfter);
        if (s.queued) headers.set('Outbox-Queued', '1');
        let body: BodyInit | null;
        const b = s.body;
        if (b.t === 'text') body = b.text;
        else if (b.t === 'json') body = JSON.stringify(b.value) ?? 'undefined';
        else if (b.t === 'truncated') body = (JSON.stringify(b.value) ?? '').slice(0, b.cut);
        else {
          const enc = new TextEncoder();
          const prefix = b.prefix;
          const kind = b.t;
          body = new ReadableStream<Uint8Array>({
            start(controller) {
              if (prefix) controller.enqueue(enc.encode(prefix));
              if (kind === 'error-mid') controller.error(new TypeError('terminated: other side closed'));
              else signal.addEventListener('abort', () => controller.error(abortError()));
            },
          });
        }
        resolve(new Response(NULL_BODY.has(s.status) ? null : body, { status: s.status, headers }));
      };
      if (s.delayMs === 0) answer();
      else {
        const timer = setTimeout(answer, s.delayMs);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(abortError());
        });
      }
    });
  }) as typeof fetch;
}

describe('fetch transport under fuzzed answers', () => {
  it('always resolves a valid SendResult and never throws', async () => {
    await assertSeeds(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }).chain((n) => fc.tuple(fc.constant(n), scenarioArb(n), fc.constantFrom<'none' | 'gzip'>('none', 'gzip'))),
        async ([n, scenario, compression]) => {
          const batch = batchOf(n, 'http://collector.test/api/public/ingestion', { Authorization: 'Bearer pk' });
          const transport = createFetchTransport({
            timeoutMs: 20, // stalled bodies and hung fetches end through the timeout
            compression,
            fetch: fakeFetch(scenario),
            now: () => Date.parse('2026-01-01T00:00:00Z'),
          });
          let result: SendResult | undefined;
          let threw: unknown;
          try {
            result = await transport.send(batch);
          } catch (e) {
            threw = e;
          }
          expect(threw, 'send() rejected').toBeUndefined();
          assertValid(result!, batch.events.map((e) => e.id));
          // Spot checks of the mapping that must hold for any answer.
          if (scenario.t === 'reject') expect(result).toMatchObject({ kind: 'retry', network: true });
          else if (scenario.delayMs > 20) expect(result).toMatchObject({ kind: 'retry', network: true, error: expect.stringMatching(/timed out/) });
          else if (scenario.body.t === 'stall' && scenario.status === 207) expect(result).toMatchObject({ kind: 'retry', network: true });
          else if (scenario.status === 413) expect(result).toEqual({ kind: 'too-large' });
          else if ([408, 429, 500, 503].includes(scenario.status)) expect(result!.kind).toBe('retry');
        },
      ),
      250,
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(unhandled).toEqual([]);
  }, 60_000);

  it('a 207 maps every id exactly once: acked ids are done, missing or 5xx ids retried, other 4xx rejected', async () => {
    const transport = createFetchTransport({
      timeoutMs: 1000,
      compression: 'none',
      fetch: (async () =>
        new Response(
          JSON.stringify({
            successes: [{ id: 'id-0', status: 201 }, { id: 'id-0', status: 201 }, { id: 'stranger', status: 201 }],
            errors: [
              { id: 'id-0', status: 500 }, // a success wins
              { id: 'id-1', status: 503 },
              { id: 'id-2', status: 400, message: 'bad' },
              { id: 'id-2', status: 400 },
              { id: 'id-3', status: 'junk' },
              { status: 400 },
            ],
          }),
          { status: 207 },
        )) as typeof fetch,
    });
    const r = await transport.send(batchOf(5, 'http://collector.test/'));
    expect(r.kind).toBe('partial');
    if (r.kind !== 'partial') return;
    expect(r.retry.sort()).toEqual(['id-1', 'id-3', 'id-4']);
    expect(r.rejected).toHaveLength(1);
    expect(r.rejected[0]).toMatchObject({ id: 'id-2', status: 400 });
  });
});

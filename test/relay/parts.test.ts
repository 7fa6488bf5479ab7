// The relay's parts on their own: options, the dedup window, the rate limiter, message chunking, the queue
// consumer's decisions (against the fake upstream over HTTP), and the node:http bridge.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRelay, outboxQueueConsumer, RelayOptionsError, toNodeListener, type QueueMessage } from '../../src/relay';
import { createDedupWindow } from '../../src/relay/dedup';
import { chunkIngestion } from '../../src/relay/ingestion';
import { chunkOtlp, parseOtlp } from '../../src/relay/otlp';
import { RELAY_DEFAULTS } from '../../src/relay/options';
import { enqueue, QUEUE_LIMITS } from '../../src/wire/queue-message';
import { createRateLimiter } from '../../src/relay/admit';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream';
import { PK, SK, otlpBody, score, span, spanKey } from './helpers';

const upstreamOpt = { baseUrl: 'http://127.0.0.1:9', publicKey: PK, secretKey: SK };

describe('options', () => {
  it.each([
    [{ upstream: { baseUrl: 'ftp://x', publicKey: PK, secretKey: SK } }, /upstream.baseUrl must be an http\(s\) URL/],
    [{ upstream: { baseUrl: 'http://x', publicKey: '', secretKey: SK } }, /upstream.publicKey must be a public key/],
    [{ upstream: upstreamOpt, allowOrigins: ['https://app.example/'] }, /allowOrigins.0 must be an exact origin/],
    [{ upstream: upstreamOpt, rateLimit: { requestsPerMinute: 0, burst: 5 } }, /rateLimit/],
    [{ upstream: upstreamOpt, maxBodyBytes: 10 }, /maxBodyBytes must be an integer from 1024/],
    [{ upstream: upstreamOpt, queue: {} }, /queue must be a Queues producer binding/],
    [{ upstream: upstreamOpt, dedupWindow: { maxIds: -1, ttlMs: 5 } }, /dedupWindow.maxIds must be an integer ≥ 0/],
    [{ upstream: upstreamOpt, dedup: 'OUTBOX_DEDUP' }, /dedup must be the OutboxDedup Durable Object binding/],
    [{ upstream: upstreamOpt, dedup: { get: () => ({}) } }, /dedup must be the OutboxDedup Durable Object binding \(env.OUTBOX_DEDUP/],
    [{ upstream: upstreamOpt, dedupShards: 0 }, /dedupShards must be an integer from 1 to 64/],
    [{ upstream: upstreamOpt, fetch: 'nope' }, /fetch must be a function/],
    [{ upstream: upstreamOpt, limit: 5 }, /unknown option "limit"/],
  ])('createRelay(%j) throws naming the option', (options, message) => {
    expect(() => createRelay(options as never)).toThrow(RelayOptionsError);
    expect(() => createRelay(options as never)).toThrow(message);
  });

  it('documents its defaults', () => {
    expect(RELAY_DEFAULTS.rateLimit).toEqual({ requestsPerMinute: 1200, burst: 300, maxClients: 10_000 });
    expect(RELAY_DEFAULTS.maxBodyBytes).toBe(1024 * 1024);
    expect(RELAY_DEFAULTS.dedupWindow).toEqual({ maxIds: 100_000, ttlMs: 600_000 });
    expect(RELAY_DEFAULTS.allowEventTypes).toEqual(['score-create']);
  });

  it('outboxQueueConsumer validates its options too', () => {
    expect(() => outboxQueueConsumer({ retry: { maxAttempts: 0 } })).toThrow(/retry.maxAttempts must be an integer ≥ 1/);
  });

  it('without upstream option, reads LANGFUSE_* from the env argument; a missing key is a 503 + onError, once', async () => {
    const errors: Error[] = [];
    const relay = createRelay({ allowNoOrigin: true, onError: (e) => errors.push(e), fetch: async () => new Response('{}', { status: 200 }) });
    const req = () => new Request('http://relay.test/api/public/otel/v1/traces', { method: 'POST', headers: { Authorization: `Bearer ${PK}`, 'Content-Type': 'application/json' }, body: JSON.stringify(otlpBody([span(1)])) });
    const bad = { LANGFUSE_BASE_URL: 'http://up.test', LANGFUSE_PUBLIC_KEY: PK };
    expect((await relay(req(), bad)).status).toBe(503);
    expect((await relay(req(), bad)).status).toBe(503);
    expect(errors.map((e) => e.message)).toEqual(['relay: upstream from env: LANGFUSE_SECRET_KEY must be a secret key (sk-lf-…)']);
    expect((await relay(req(), { ...bad, LANGFUSE_SECRET_KEY: SK })).status).toBe(200);
  });
});

describe('value size cap', () => {
  it('with a larger maxBodyBytes, a 5 MB attribute is refused by limits.maxValueChars (400), not forwarded', async () => {
    let calls = 0;
    const relay = createRelay({ upstream: upstreamOpt, allowNoOrigin: true, maxBodyBytes: 8 * 1024 * 1024, fetch: async () => (calls++, new Response('{}')) });
    const body = otlpBody([span(1, { attributes: [{ key: 'langfuse.observation.input', value: { stringValue: 'v'.repeat(5_000_000) } }] })]);
    const res = await relay(new Request('http://relay.test/api/public/otel/v1/traces', { method: 'POST', headers: { Authorization: `Bearer ${PK}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/spans\[0\]\.attributes\[0\]\.value\.stringValue: is longer than 262144 characters/);
    expect(calls).toBe(0);
  });
});

describe('dedup window', () => {
  it('a dedup binding whose calls fail, without onError: one console warning, every failure counted, the own window used', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      let forwarded = 0;
      const failing = { idFromName: (name: string) => name, get: () => ({ fetch: () => Promise.reject(new Error('binding down')) }) };
      const relay = createRelay({ upstream: upstreamOpt, allowNoOrigin: true, dedup: failing, fetch: async () => (forwarded++, new Response('{}')) });
      const req = (seed: number) => new Request('http://relay.test/api/public/otel/v1/traces', { method: 'POST', headers: { Authorization: `Bearer ${PK}`, 'Content-Type': 'application/json' }, body: JSON.stringify(otlpBody([span(seed)])) });
      for (const seed of [1, 2, 1]) expect((await relay(req(seed))).status).toBe(200);
      expect(forwarded).toBe(2); // the repeat of span 1 was refused by the relay's own window
      expect(relay.stats()).toMatchObject({ forwarded: 2, duplicates: 1, sharedFailures: 2 });
      expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([expect.stringMatching(/^\[outbox relay\] relay: the dedup object \(OutboxDedup\) failed on claim: binding down; deduplicating per instance meanwhile$/)]);
    } finally {
      warn.mockRestore();
    }
  });

  it('forgets after ttlMs and beyond maxIds (oldest first)', () => {
    let now = 0;
    const w = createDedupWindow(3, 1000, () => now);
    w.remember(['a', 'b', 'c']);
    expect(['a', 'b', 'c'].map((k) => w.has(k))).toEqual([true, true, true]);
    w.remember(['d']);
    expect(w.has('a')).toBe(false);
    expect(w.size).toBe(3);
    now = 999;
    expect(w.has('b')).toBe(true);
    now = 1000;
    expect(w.has('b')).toBe(false);
    expect(w.size).toBe(0);
  });
});

describe('rate limiter', () => {
  it('gives burst tokens, refills at requestsPerMinute, and says when the next one comes', () => {
    let now = 0;
    const r = createRateLimiter({ requestsPerMinute: 120, burst: 2, maxClients: 2 }, () => now);
    expect([r.take('a'), r.take('a'), r.take('a')]).toEqual([undefined, undefined, 1]);
    now += 500;
    expect(r.take('a')).toBeUndefined();
    expect(r.take('b')).toBeUndefined();
    r.take('c'); // evicts 'a' (least recently used): it starts full again
    expect(r.take('a')).toBeUndefined();
  });
});

describe('chunking for queue messages', () => {
  it('OTLP: every chunk a valid request under the limit, all spans once, in order', () => {
    const spans = Array.from({ length: 60 }, (_, i) => span(i, { attributes: [{ key: 'langfuse.observation.input', value: { stringValue: 'y'.repeat(3000) } }] }));
    const parsed = parseOtlp(otlpBody(spans), RELAY_DEFAULTS.limits);
    if (!parsed.ok) throw new Error(parsed.message);
    const chunks = chunkOtlp(parsed.request, 20_000)!;
    expect(chunks.length).toBeGreaterThan(5);
    const seen: string[] = [];
    for (const c of chunks) {
      expect(new TextEncoder().encode(c.body).byteLength).toBeLessThanOrEqual(20_000);
      const again = parseOtlp(JSON.parse(c.body), RELAY_DEFAULTS.limits);
      expect(again.ok).toBe(true);
      if (again.ok) seen.push(...again.keys);
    }
    expect(seen).toEqual(spans.map(spanKey));
    expect(chunkOtlp(parsed.request, 2000)).toBeUndefined(); // one span is larger than that
  });

  it('ingestion: envelopes under the limit', () => {
    const events = Array.from({ length: 50 }, (_, i) => score(`c${i}`, { comment: 'z'.repeat(500) }));
    const chunks = chunkIngestion(events as never, { sdk: 'x' }, 5000)!;
    expect(chunks.flatMap((c) => c.keys)).toEqual(events.map((e) => e.id));
    for (const c of chunks) expect(c.body.length).toBeLessThanOrEqual(5000);
  });

  it('enqueue: ≤ 100 messages and ≤ 240 KB per sendBatch', async () => {
    const calls: number[][] = [];
    const queue = {
      send: async (body: unknown) => void calls.push([JSON.stringify(body).length]),
      sendBatch: async (msgs: Iterable<{ body: unknown }>) => void calls.push([...msgs].map((m) => JSON.stringify(m.body).length)),
    };
    const small = Array.from({ length: 250 }, () => ({ body: '{"batch":[]}', bytes: 12 }));
    await enqueue(queue, 'ingestion', small);
    expect(calls.map((c) => c.length)).toEqual([100, 100, 50]);
    calls.length = 0;
    const body = JSON.stringify({ batch: [{ pad: 'p'.repeat(100_000) }] });
    await enqueue(queue, 'ingestion', Array.from({ length: 5 }, () => ({ body, bytes: body.length })));
    expect(calls.map((c) => c.length)).toEqual([2, 2, 1]);
    for (const c of calls) expect(c.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(QUEUE_LIMITS.batchBytes + 1000);
  });
});

describe('queue consumer (Node, fake upstream over HTTP)', () => {
  let upstream: FakeUpstream;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
  });
  afterAll(() => upstream.close());
  beforeEach(() => upstream.reset());

  function message(body: unknown, attempts = 1) {
    const log: string[] = [];
    const msg: QueueMessage & { log: string[] } = {
      id: 'm1',
      body,
      attempts,
      log,
      ack: () => void log.push('ack'),
      retry: (o) => void log.push(`retry ${o?.delaySeconds}`),
    };
    return msg;
  }
  const otlpMessage = () => ({ outbox: 1, wire: 'otlp', payload: otlpBody([span(1)]) });

  it('2xx → ack; 429 Retry-After: 2 → retry({ delaySeconds: 2 }); 500 → backoff; permanent 400 → ack + reported', async () => {
    const errors: Error[] = [];
    const consume = outboxQueueConsumer({ upstream: { baseUrl: upstream.url, publicKey: PK, secretKey: SK }, random: () => 0.5, onError: (e) => errors.push(e) });
    const ok = message(otlpMessage());
    await consume({ messages: [ok] });
    expect(ok.log).toEqual(['ack']);
    expect(upstream.spans).toEqual([spanKey(span(1))]);

    upstream.mode = '429';
    upstream.retryAfter = '2';
    const limited = message(otlpMessage());
    await consume({ messages: [limited] });
    expect(limited.log).toEqual(['retry 2']);

    upstream.mode = '500';
    const failed = message(otlpMessage(), 3);
    await consume({ messages: [failed] });
    expect(failed.log).toEqual(['retry 4']); // 0.5 · min(300 s, 2 s · 2²)

    upstream.mode = 'ok';
    const broken = message({ outbox: 1, wire: 'otlp', payload: { resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'no ids' }] }] }] } });
    await consume({ messages: [broken] });
    expect(broken.log).toEqual(['ack']);
    expect(consume.stats()).toMatchObject({ delivered: 1, retried: 2, gaveUp: 1 });
    expect(errors.at(-1)!.message).toMatch(/gave up.*HTTP 400/);
  });

  it('gives up after maxAttempts; acks and reports what is not a relay message', async () => {
    const errors: Error[] = [];
    const consume = outboxQueueConsumer({ upstream: { baseUrl: upstream.url, publicKey: PK, secretKey: SK }, retry: { maxAttempts: 3 }, onError: (e) => errors.push(e) });
    upstream.mode = 'down';
    const last = message(otlpMessage(), 3);
    const junk = message('hello');
    await consume({ messages: [last, junk] });
    expect(last.log).toEqual(['ack']);
    expect(junk.log).toEqual(['ack']);
    expect(consume.stats().gaveUp).toBe(2);
    expect(errors.map((e) => e.message).join('\n')).toMatch(/3 attempts[\s\S]*not an Outbox relay message|not an Outbox relay message[\s\S]*3 attempts/);
  });
});

describe('node:http bridge', () => {
  it('passes method, URL, headers, the streamed body and the socket address; writes status, headers and body', async () => {
    let seen: { method: string; url: string; header: string | null; body: string; ip?: string } | undefined;
    const server = http.createServer(
      toNodeListener(async (request, _env, ctx) => {
        seen = { method: request.method, url: request.url, header: request.headers.get('x-test'), body: await request.text(), ip: ctx?.remoteAddress };
        return new Response('x'.repeat(200_000), { status: 207, headers: { 'X-Out': 'yes' } });
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const res = await fetch(`http://127.0.0.1:${port}/a/b?pk=1`, { method: 'POST', headers: { 'X-Test': 'v' }, body: 'hello'.repeat(50_000) });
      expect(res.status).toBe(207);
      expect(res.headers.get('x-out')).toBe('yes');
      expect((await res.text()).length).toBe(200_000);
      expect(seen).toEqual({ method: 'POST', url: `http://127.0.0.1:${port}/a/b?pk=1`, header: 'v', body: 'hello'.repeat(50_000), ip: '127.0.0.1' });
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

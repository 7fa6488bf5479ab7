// The relay in real workerd (miniflare 4) with a real Cloudflare Queues binding: the relay answers 202 once the
// queue took the records; outboxQueueConsumer delivers them to the fake Langfuse (a Node server on 127.0.0.1).
import { startWorkerd, type Workerd } from '../helpers/workerd';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream';
import { INGESTION, ORIGIN, OTLP, PK, SK, ingestionBody, otlpBody, score, span, spanKey } from './helpers';

let upstream: FakeUpstream;
let base: string;
let workerd: Workerd;

type Stats = {
  relay: { queued: number; forwarded: number };
  consumer: { delivered: number; retried: number; gaveUp: number };
  reports: string[];
  retries: { attempts: number; delaySeconds?: number }[];
};
const stats = async (): Promise<Stats> => (await fetch(base + '/stats')).json() as Promise<Stats>;
const send = (p: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(base + p, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${PK}`, Origin: ORIGIN, ...headers },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  upstream = await startFakeUpstream();
  workerd = await startWorkerd({
    entry: 'test/relay/fixtures/relay-worker.ts',
    socket: true,
    bindings: { LANGFUSE_BASE_URL: upstream.url, LANGFUSE_PUBLIC_KEY: PK, LANGFUSE_SECRET_KEY: SK },
    queueProducers: { OUTBOX_QUEUE: { queueName: 'outbox-relay' } },
    queueConsumers: { 'outbox-relay': { maxBatchSize: 10, maxBatchTimeout: 0, maxRetries: 50 } },
  });
  base = workerd.origin!;
});
afterAll(async () => {
  await workerd?.dispose();
  await upstream?.close();
});
beforeEach(() => upstream.reset());

describe('relay + Queues in workerd', () => {
  it('answers 202 once queued; the consumer delivers every record upstream once', async () => {
    const spans = Array.from({ length: 30 }, (_, i) => span(1000 + i));
    const scores = [score('wq-1'), score('wq-2')];
    const a = await send(OTLP, otlpBody(spans));
    expect(a.status).toBe(202);
    expect(a.headers.get('Outbox-Queued')).toBe('1');
    expect(a.headers.get('Access-Control-Allow-Origin')).toBe(ORIGIN);
    const b = await send(INGESTION, ingestionBody(scores));
    expect(b.status).toBe(202);
    await expect.poll(() => upstream.spans.length + upstream.events.length, { timeout: 15_000 }).toBe(32);
    const copies = upstream.copies();
    for (const s of spans) expect(copies.get(spanKey(s))).toBe(1);
    for (const s of scores) expect(copies.get(s.id)).toBe(1);
    // The relay forwarded with its own keys and the v4 header.
    expect(upstream.requests.every((r) => r.headers.authorization === 'Basic ' + Buffer.from(`${PK}:${SK}`).toString('base64'))).toBe(true);
    expect(upstream.requests.every((r) => r.headers['x-langfuse-ingestion-version'] === '4')).toBe(true);
    // A resend of what was queued is acknowledged without queueing it again.
    const again = await send(OTLP, otlpBody(spans));
    expect(again.status).toBe(200);
    expect((await stats()).relay.queued).toBe(32);
  });

  it('a large request is split into several queue messages under 128 KB, all delivered', async () => {
    const big = Array.from({ length: 40 }, (_, i) =>
      span(5000 + i, { attributes: [{ key: 'langfuse.observation.input', value: { stringValue: 'x'.repeat(20_000) } }] }),
    );
    const res = await send(OTLP, otlpBody(big));
    expect(res.status).toBe(202);
    await expect.poll(() => upstream.spans.length, { timeout: 15_000 }).toBe(40);
    expect(upstream.requests.length).toBeGreaterThanOrEqual(7); // 800 KB of spans in messages of ≤ 120 KB
    expect(new Set(upstream.spans).size).toBe(40);
  });

  it('upstream down, then back: the consumer retries and delivers after, none lost', async () => {
    upstream.mode = 'down';
    const spans = Array.from({ length: 5 }, (_, i) => span(2000 + i));
    expect((await send(OTLP, otlpBody(spans))).status).toBe(202);
    const before = (await stats()).consumer.retried;
    await expect.poll(async () => (await stats()).consumer.retried - before, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    expect(upstream.spans.length).toBe(0);
    upstream.mode = 'ok';
    await expect.poll(() => upstream.spans.length, { timeout: 15_000 }).toBe(5);
    expect(new Set(upstream.spans)).toEqual(new Set(spans.map(spanKey)));
    expect((await stats()).consumer.gaveUp).toBe(0);
  });

  it('upstream 429 with Retry-After: 2 → msg.retry({ delaySeconds: 2 }), then delivered', async () => {
    upstream.mode = '429';
    upstream.retryAfter = '2';
    const before = (await stats()).retries.length;
    expect((await send(INGESTION, ingestionBody([score('wq-429')]))).status).toBe(202);
    await expect.poll(async () => (await stats()).retries.length - before, { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
    const retry = (await stats()).retries[before]!;
    expect(retry.delaySeconds).toBe(2);
    expect(upstream.events.length).toBe(0);
    upstream.mode = 'ok';
    await expect.poll(() => upstream.events, { timeout: 15_000 }).toEqual(['wq-429']);
  });

  it('hostile input is refused in workerd too, nothing queued', async () => {
    const before = (await stats()).relay.queued;
    expect((await send(OTLP, otlpBody([span(1, { spanId: 'xyz' })]))).status).toBe(400);
    expect((await send(OTLP, otlpBody([span(1)]), { Authorization: `Bearer ${SK}` })).status).toBe(403);
    expect((await send(OTLP, otlpBody([span(1)]), { Origin: 'http://evil.test' })).status).toBe(403);
    expect((await stats()).relay.queued).toBe(before);
  });

  it('a beacon (text/plain, ?pk=) is 202 and reaches the upstream through the queue', async () => {
    const res = await fetch(`${base}${OTLP}?pk=${PK}`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain;charset=UTF-8', Origin: ORIGIN },
      body: JSON.stringify(otlpBody([span(3000)])),
    });
    expect(res.status).toBe(202);
    await expect.poll(() => upstream.spans, { timeout: 15_000 }).toEqual([spanKey(span(3000))]);
  });
});

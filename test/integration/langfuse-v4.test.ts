// Langfuse v4 from Node: traces as OTLP and scores on the ingestion path, against the collector answering as
// Langfuse v4 does (non-score events refused on /ingestion, Basic auth on OTLP, whole-batch 400 for one bad span).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { createOutbox } from '../../src/node';
import type { DropInfo, Outbox, OutboxOptions } from '../../src/node';
import { expectConservation } from '../helpers/conservation';

let collector: Collector;
let clients: Outbox[] = [];
let drops: DropInfo[] = [];

beforeAll(async () => {
  collector = await startCollector({ langfuse: 'v4' });
});
afterAll(() => collector.close());
beforeEach(() => {
  collector.reset();
  drops = [];
});
afterEach(async () => {
  for (const c of clients) {
    await c.shutdown();
    expectConservation(c.stats());
  }
  clients = [];
});

function client(options: Partial<OutboxOptions> = {}): Outbox {
  const c = createOutbox({
    baseUrl: collector.url,
    publicKey: 'pk-lf-test',
    secretKey: 'sk-lf-test',
    flushInterval: 3600,
    retry: { initialDelayMs: 20, maxDelayMs: 100, maxAttempts: 10 },
    onDrop: (info) => drops.push(info),
    ...options,
  });
  clients.push(c);
  return c;
}

const byName = (name: string) => collector.observations().find((o: { name: string }) => o.name === name)!;
const dropped = (reason: string) => drops.filter((d) => d.reason === reason).reduce((n, d) => n + d.count, 0);

describe('Langfuse v4 from Node', () => {
  it('a trace with spans, a generation, an agent with a tool, an event and two scores: every observation stored once', async () => {
    const outbox = client({ environment: 'Staging', release: 'r-42' });
    const turn = outbox.startObservation('chat-turn', { input: { q: 'hi' } }, {
      trace: { name: 'chat', userId: 'u-1', sessionId: 's-1', tags: ['a', 'b'], metadata: { plan: 'pro' } },
    });
    const retrieve = turn.startObservation('retrieve', { input: 'q' });
    retrieve.end();
    const llm = turn.startObservation('llm', { model: 'gpt-4o', input: [{ role: 'user', content: 'hi' }] }, { asType: 'generation' });
    llm.update({ output: 'hello', usageDetails: { input: 12, output: 30 } });
    llm.end();
    const agent = turn.startObservation('planner', {}, { asType: 'agent' });
    agent.startObservation('search', { input: { q: 'x' } }, { asType: 'tool' }).end();
    agent.end();
    turn.startObservation('clicked', { metadata: { button: 'ok' } }, { asType: 'event' });
    turn.update({ output: { a: 'hello' } });
    turn.end();
    expect(outbox.score({ name: 'thumbs', value: 1, traceId: turn.traceId })).not.toBe('');
    expect(outbox.score({ name: 'helpful', value: true, traceId: turn.traceId, observationId: llm.id })).not.toBe('');
    await outbox.flush();

    const observations = collector.observations();
    expect(observations.map((o: { name: string }) => o.name).sort()).toEqual(['chat-turn', 'clicked', 'llm', 'planner', 'retrieve', 'search']);
    expect(observations).toHaveLength(6);
    expect(new Set(observations.map((o: { id: string }) => o.id)).size).toBe(6);
    expect(collector.stats().spanDuplicates).toBe(0);
    const root = byName('chat-turn');
    const trace = { name: 'chat', userId: 'u-1', sessionId: 's-1', tags: ['a', 'b'] };
    expect(root).toMatchObject({ type: 'span', traceId: turn.traceId, trace, environment: 'staging', release: 'r-42', parentObservationId: null });
    expect(byName('llm')).toMatchObject({ type: 'generation', parentObservationId: turn.id, model: 'gpt-4o', trace });
    expect(byName('llm').usageDetails).toMatchObject({ input: 12, output: 30, total: 42 });
    // Langfuse-native spans: no attribute is copied into metadata as a foreign scope's would be.
    for (const o of observations) expect(o.metadata).not.toHaveProperty('attributes');
    expect(byName('planner')).toMatchObject({ type: 'agent', parentObservationId: turn.id, trace });
    expect(byName('search')).toMatchObject({ type: 'tool', parentObservationId: agent.id, trace });
    expect(byName('clicked')).toMatchObject({ type: 'event', parentObservationId: turn.id, trace });
    expect(byName('retrieve')).toMatchObject({ type: 'span', parentObservationId: turn.id, trace });
    const scores = collector.scores({ traceId: turn.traceId });
    expect(scores.map((s: { name: string }) => s.name).sort()).toEqual(['helpful', 'thumbs']);
    expect(collector.stats().refusedEvents ?? 0).toBe(0);
    expect(drops).toEqual([]);
    expect(outbox.stats()).toMatchObject({ sent: 8, queued: 0, inflight: 0 });
    // Traces went as OTLP with Basic auth and Langfuse's ingestion-version header; scores as the legacy envelope.
    const requests = collector.requests();
    const otlp = requests.filter((r) => r.path === 'otlp');
    expect(otlp.length).toBeGreaterThan(0);
    expect(otlp.every((r) => r.status === 200 && r.auth === 'basic' && r.contentEncoding === 'gzip')).toBe(true);
    expect(requests.filter((r) => r.path === 'ingestion').every((r) => r.status === 207 && r.contentEncoding === null)).toBe(true);
  });

  it('a bad score is dropped invalid naming the field, never thrown', async () => {
    const outbox = client();
    expect(outbox.score({ name: 'x', value: 1 } as never)).toBe('');
    expect(outbox.score({ name: 'x', value: 1, traceId: 't', sessionId: 's' })).toBe('');
    expect(outbox.score(null as never)).toBe('');
    await outbox.flush();
    expect(dropped('invalid')).toBe(3);
    expect(drops.find((d) => d.reason === 'invalid')!.detail).toMatch(/traceId/);
    expect(collector.scores()).toHaveLength(0);
  });

  it('500 then 429 then 200 on the OTLP path: retried, each span stored once', async () => {
    const outbox = client();
    collector.setFault({ mode: 'status', status: 500, times: 1, path: 'otlp' });
    const spans = Array.from({ length: 30 }, (_, i) => outbox.startObservation(`s${i}`));
    for (const s of spans) s.end();
    await outbox.flush(); // the 500 is retried after a short backoff
    collector.setFault({ mode: 'status', status: 429, retryAfter: '0', times: 1, path: 'otlp' });
    await expect.poll(() => collector.observations().length, { timeout: 5000 }).toBe(30);
    expect(collector.stats().spanDuplicates).toBe(0);
    expect(outbox.stats().dropped.rejected).toBe(0);
  });

  it('413 on the OTLP path: the batch is split until it fits, every span stored once', async () => {
    const outbox = client();
    collector.setFault({ mode: 'status', status: 413, times: 2, path: 'otlp' });
    for (let i = 0; i < 40; i++) outbox.startObservation(`s${i}`).end();
    await outbox.flush();
    await expect.poll(() => collector.observations().length, { timeout: 5000 }).toBe(40);
    expect(collector.stats().spanDuplicates).toBe(0);
  });

  it('partialSuccess from a generic OTLP backend: reported rejected with its message, never retried', async () => {
    const outbox = client();
    collector.setFault({ mode: 'partial-success', rejectedSpans: 2, errorMessage: 'two spans too old', times: 1, path: 'otlp' });
    for (let i = 0; i < 10; i++) outbox.startObservation(`p${i}`).end();
    await outbox.flush();
    expect(dropped('rejected')).toBe(2);
    expect(drops.find((d) => d.reason === 'rejected')!.detail).toMatch(/two spans too old/);
    expect(collector.stats().spanDuplicates).toBe(0);
    expect(outbox.stats().requests).toBe(1);
  });

  it('Langfuse rejects a whole export for one bad span: 100 spans, one bad → bisected, 99 stored, the bad one dropped with the message', async () => {
    const outbox = client();
    for (let i = 0; i < 100; i++) outbox.startObservation(i === 37 ? 'poison' : `ok${i}`).end();
    collector.setFault({ mode: 'reject-span', match: 'poison', path: 'otlp' });
    await outbox.flush();
    await expect.poll(() => collector.observations().length, { timeout: 5000 }).toBe(99);
    expect(dropped('rejected')).toBe(1);
    const info = drops.find((d) => d.reason === 'rejected')!;
    expect(info.count).toBe(1);
    expect(info.detail).toMatch(/400/);
    expect(collector.observations().some((o: { name: string }) => o.name === 'poison')).toBe(false);
    expect(collector.stats().spanDuplicates).toBe(0);
    // Bisection of one bad span in 100 costs about 2·log2(100) requests, not 100.
    expect(outbox.stats().requests).toBeLessThan(20);
  });

  it('hostile attributes: circular input, BigInt, a 5 MB output, 10 000 metadata keys, lone surrogates → sent with markers, nothing thrown', async () => {
    const outbox = client();
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    const metadata = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, i]));
    const o = outbox.startObservation('hostile', { input: circular, metadata });
    expect(() => o.update({ output: 'x'.repeat(5 * 1024 * 1024) })).not.toThrow();
    o.update({ statusMessage: 'bad \ud800 surrogate', input: { n: 10n } as never });
    o.end();
    await outbox.flush();
    const stored = byName('hostile');
    expect(stored).toBeTruthy();
    expect(String(stored.output ?? '')).toMatch(/outbox/);
    expect(String(stored.output ?? '').length).toBeLessThan(300 * 1024);
    expect(outbox.stats().dropped).toMatchObject({ invalid: 0, 'too-large': 0 });
  });

  it('a Bearer public key only (as a page would have) on the OTLP path: 403 dropped rejected, with the relay hint', async () => {
    const outbox = client({ secretKey: undefined });
    outbox.startObservation('from-a-page').end();
    expect(outbox.score({ name: 'ok', value: 1, sessionId: 's' })).not.toBe('');
    await outbox.flush();
    expect(dropped('rejected')).toBe(1);
    expect(collector.scores()).toHaveLength(1);
  });

  it('LANGFUSE_* environment variables configure the Node client', async () => {
    const env = process.env;
    const saved = { ...env };
    try {
      env.LANGFUSE_BASE_URL = collector.url;
      env.LANGFUSE_PUBLIC_KEY = 'pk-env';
      env.LANGFUSE_SECRET_KEY = 'sk-env';
      env.LANGFUSE_TRACING_ENVIRONMENT = 'prod';
      env.LANGFUSE_RELEASE = 'v9';
      const outbox = createOutbox({ flushInterval: 3600 });
      clients.push(outbox);
      outbox.startObservation('from-env').end();
      await outbox.flush();
      expect(byName('from-env')).toMatchObject({ environment: 'prod', release: 'v9' });
    } finally {
      for (const k of Object.keys(env)) if (!(k in saved)) delete env[k];
      Object.assign(env, saved);
    }
  });
});

// The relay under node:http (toNodeListener) in front of a fake Langfuse v4, over real HTTP on 127.0.0.1.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream';
import { INGESTION, ORIGIN, OTLP, PK, SK, ingestionBody, otlpBody, post, score, span, spanKey, startRelayServer } from './helpers';

let upstream: FakeUpstream;
let server: Awaited<ReturnType<typeof startRelayServer>>;
const errors: Error[] = [];
let clock = 1_764_600_000_000;
/** While set, a beacon's background retry waits for it (the test decides when "later" is). */
let sleepGate: Promise<void> | undefined;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  server = await startRelayServer({
    upstream: { baseUrl: upstream.url, publicKey: PK, secretKey: SK },
    allowOrigins: [ORIGIN],
    now: () => clock,
    sleep: () => sleepGate ?? Promise.resolve(), // beacon retries without wall-clock waits
    beaconRetry: { maxAttempts: 5, budgetMs: 60_000 },
    onError: (e) => errors.push(e),
  });
});
afterAll(async () => {
  await server?.close();
  await upstream?.close();
});
beforeEach(() => {
  upstream.reset();
  errors.length = 0;
});

/** A page: sends its batch, and on a retryable answer (429/5xx) sends the same bytes again — at most `max` times. */
async function pageSend(path: string, body: unknown, max = 20): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const res = await post(server.url, path, body);
    if (res.status < 500 && res.status !== 429) return res;
    await res.arrayBuffer();
    if (attempt >= max) return res;
  }
}

describe('relay under node:http', () => {
  it('50 concurrent pages (OTLP and scores): every record stored upstream exactly once', async () => {
    const pages = Array.from({ length: 50 }, (_, p) => p);
    const expected: string[] = [];
    const answers = await Promise.all(
      pages.flatMap((p) => {
        const spans = Array.from({ length: 8 }, (_, i) => span(p * 100 + i));
        const scores = Array.from({ length: 3 }, (_, i) => score(`p${p}-s${i}`));
        expected.push(...spans.map(spanKey), ...scores.map((s) => s.id));
        return [pageSend(OTLP, otlpBody(spans)), pageSend(INGESTION, ingestionBody(scores))];
      }),
    );
    for (const res of answers) expect([200, 207]).toContain(res.status);
    const copies = upstream.copies();
    expect(copies.size).toBe(expected.length);
    for (const id of expected) expect(copies.get(id)).toBe(1);
    // Upstream saw the relay's keys and the v4 header, never the page's Bearer key; OTLP gzipped, ingestion not.
    for (const r of upstream.requests) {
      expect(r.headers.authorization).toBe('Basic ' + Buffer.from(`${PK}:${SK}`).toString('base64'));
      expect(r.headers['x-langfuse-ingestion-version']).toBe('4');
      expect(r.headers['content-encoding']).toBe(r.path === OTLP ? 'gzip' : undefined);
    }
  });

  it('a resend of what the upstream already took is acknowledged without forwarding; a partial resend forwards only the new', async () => {
    const first = [span(9001), span(9002)];
    expect((await post(server.url, OTLP, otlpBody(first))).status).toBe(200);
    const before = server.relay.stats().duplicates;
    expect((await post(server.url, OTLP, otlpBody(first))).status).toBe(200);
    expect(upstream.requests.length).toBe(1);
    const mixed = [span(9001), span(9003)];
    expect((await post(server.url, OTLP, otlpBody(mixed))).status).toBe(200);
    expect(upstream.spans).toEqual([spanKey(first[0]!), spanKey(first[1]!), spanKey(mixed[1]!)]);
    expect(server.relay.stats().duplicates - before).toBe(3);

    const scores = [score('dup-1'), score('dup-2')];
    const a = await post(server.url, INGESTION, ingestionBody(scores));
    expect(a.status).toBe(207);
    const b = await post(server.url, INGESTION, ingestionBody(scores));
    expect(b.status).toBe(207);
    expect(((await b.json()) as { successes: { id: string }[] }).successes.map((s) => s.id).sort()).toEqual(['dup-1', 'dup-2']);
    expect(upstream.events).toEqual(['dup-1', 'dup-2']);
  });

  it('the same batch sent twice at once (a beacon and its fetch retry, two tabs) is forwarded once', async () => {
    const spans = [span(15_001), span(15_002)];
    const scores = [score('twice-1')];
    const answers = await Promise.all([
      post(server.url, OTLP, otlpBody(spans)),
      post(server.url, OTLP, otlpBody(spans)),
      post(server.url, INGESTION, ingestionBody(scores)),
      post(server.url, INGESTION, ingestionBody(scores)),
    ]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 207, 207]);
    expect(upstream.spans.sort()).toEqual(spans.map(spanKey).sort());
    expect(upstream.events).toEqual(['twice-1']);
  });

  it('upstream down for a while, then back: the relay answers 503 + Retry-After meanwhile, and nothing is lost', async () => {
    upstream.mode = 'down';
    const spans = Array.from({ length: 20 }, (_, i) => span(20_000 + i));
    const scores = [score('outage-1'), score('outage-2')];
    const whileDown = await post(server.url, OTLP, otlpBody(spans));
    expect(whileDown.status).toBe(503);
    expect(whileDown.headers.get('Retry-After')).toBe('5');
    expect(whileDown.headers.get('Access-Control-Allow-Origin')).toBe(ORIGIN);
    const scoreDown = await post(server.url, INGESTION, ingestionBody(scores));
    expect(scoreDown.status).toBe(503);
    expect(upstream.spans.length + upstream.events.length).toBe(0);
    // Nothing was remembered as delivered: the pages' resends go through once the upstream is back.
    upstream.mode = '500';
    expect((await post(server.url, OTLP, otlpBody(spans))).status).toBe(503);
    upstream.mode = 'ok';
    const [a, b] = await Promise.all([pageSend(OTLP, otlpBody(spans)), pageSend(INGESTION, ingestionBody(scores))]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(207);
    const copies = upstream.copies();
    for (const s of spans) expect(copies.get(spanKey(s))).toBe(1);
    for (const s of scores) expect(copies.get(s.id)).toBe(1);
    expect(server.relay.stats().upstreamFailures).toBeGreaterThanOrEqual(3);
  });

  it("upstream 429 with Retry-After: 2 → the relay answers 429 with Retry-After 2, and stores nothing meanwhile", async () => {
    upstream.mode = '429';
    upstream.retryAfter = '2';
    const spans = [span(30_001)];
    const res = await post(server.url, OTLP, otlpBody(spans));
    expect(res.status).toBe(429);
    expect(res.headers.get('Retry-After')).toBe('2');
    expect(res.headers.get('Access-Control-Expose-Headers')).toContain('Retry-After');
    expect(upstream.requests.length).toBe(1);
    // Meanwhile the relay answers for the upstream: 429 with the time left, and nothing goes upstream —
    // even though the upstream would take it by now.
    upstream.mode = 'ok';
    clock += 1500;
    const scoreRes = await post(server.url, INGESTION, ingestionBody([score('rl-1')]));
    expect(scoreRes.status).toBe(429);
    expect(scoreRes.headers.get('Retry-After')).toBe('1');
    const again = await post(server.url, OTLP, otlpBody(spans));
    expect(again.status).toBe(429);
    expect(upstream.requests.length).toBe(1);
    expect(upstream.spans.length + upstream.events.length).toBe(0);
    expect(server.relay.stats().heldBack).toBe(2);
    clock += 500; // Retry-After is over
    expect((await post(server.url, OTLP, otlpBody(spans))).status).toBe(200);
    expect((await post(server.url, INGESTION, ingestionBody([score('rl-1')]))).status).toBe(207);
    expect(upstream.spans).toEqual([spanKey(spans[0]!)]);
    expect(upstream.events).toEqual(['rl-1']);
  });

  it('a 429 without Retry-After gets the relay default; an upstream 413 is a 413 with CORS', async () => {
    upstream.mode = '429';
    const res = await post(server.url, OTLP, otlpBody([span(31_001)]));
    expect(res.status).toBe(429);
    expect(res.headers.get('Retry-After')).toBe('5');
    expect(server.relay.stats().heldBack).toBe(2); // no Retry-After from the upstream: no hold
    upstream.mode = '413';
    const big = await post(server.url, OTLP, otlpBody([span(31_002)]));
    expect(big.status).toBe(413);
    expect(big.headers.get('Access-Control-Allow-Origin')).toBe(ORIGIN);
  });

  it("ingestion: the relay's own refusals are merged with the upstream's 207, the good events forwarded", async () => {
    const good = score('merge-ok');
    const trace = { id: 'merge-trace', type: 'trace-create', timestamp: '2026-12-01T10:00:00Z', body: { id: 't1' } };
    const badScore = score('merge-bad', { traceId: undefined }); // no target at all
    const res = await post(server.url, INGESTION, ingestionBody([good, trace, badScore]));
    expect(res.status).toBe(207);
    const body = (await res.json()) as { successes: { id: string }[]; errors: { id: string; status: number; message: string }[] };
    expect(body.successes.map((s) => s.id)).toEqual(['merge-ok']);
    expect(body.errors.map((e) => [e.id, e.status])).toEqual([
      ['merge-trace', 400],
      ['merge-bad', 400],
    ]);
    expect(body.errors[0]!.message).toMatch(/trace-create.*not accepted/);
    expect(body.errors[1]!.message).toMatch(/exactly one of traceId, sessionId, datasetRunId/);
    expect(upstream.events).toEqual(['merge-ok']);
  });

  it('a beacon (text/plain, ?pk=) is answered 202 at once and delivered in the background, retrying through a failure', async () => {
    upstream.mode = '500';
    let open!: () => void;
    sleepGate = new Promise<void>((resolve) => (open = resolve));
    const spans = [span(40_001), span(40_002)];
    const res = await fetch(`${server.url}${OTLP}?pk=${PK}`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain;charset=UTF-8', Origin: ORIGIN },
      body: JSON.stringify(otlpBody(spans)),
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe(ORIGIN);
    // The first background attempt fails (500); flip the upstream back and let the retries finish.
    await expect.poll(() => upstream.requests.length, { timeout: 5000 }).toBe(1);
    expect(server.relay.stats().background).toBe(1);
    upstream.mode = 'ok';
    sleepGate = undefined;
    open();
    await server.relay.idle();
    expect(upstream.requests.length).toBe(2);
    expect(upstream.spans.sort()).toEqual(spans.map(spanKey).sort());
    expect(server.relay.stats().background).toBe(0);

    const scoreBeacon = await fetch(`${server.url}${INGESTION}?pk=${PK}`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Origin: ORIGIN },
      body: JSON.stringify(ingestionBody([score('beacon-1')])),
    });
    expect(scoreBeacon.status).toBe(202);
    await server.relay.idle();
    expect(upstream.events).toEqual(['beacon-1']);
  });

  it('a malformed beacon is a 400, nothing forwarded', async () => {
    const res = await fetch(`${server.url}${OTLP}?pk=${PK}`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Origin: ORIGIN },
      body: '{"resourceSpans": [',
    });
    expect(res.status).toBe(400);
    const bad = await fetch(`${server.url}${OTLP}?pk=${PK}`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Origin: ORIGIN },
      body: JSON.stringify(otlpBody([span(41_000, { spanId: 'nothex!!nothex!!' })])),
    });
    expect(bad.status).toBe(400);
    await server.relay.idle();
    expect(upstream.requests.length).toBe(0);
  });

  it('a beacon the upstream never takes is given up within the budget, counted and reported', async () => {
    upstream.mode = 'down';
    const res = await fetch(`${server.url}${OTLP}?pk=${PK}`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Origin: ORIGIN },
      body: JSON.stringify(otlpBody([span(42_000)])),
    });
    expect(res.status).toBe(202);
    const before = server.relay.stats().beaconGaveUp;
    await server.relay.idle();
    expect(upstream.requests.length).toBe(5); // beaconRetry.maxAttempts
    expect(server.relay.stats().beaconGaveUp - before).toBe(1);
    expect(errors.some((e) => /beacon: gave up/.test(e.message))).toBe(true);
  });

  it('accepts gzip bodies from pages', async () => {
    const { gzipSync } = await import('node:zlib');
    const spans = [span(50_001)];
    const res = await post(server.url, OTLP, new Uint8Array(gzipSync(JSON.stringify(otlpBody(spans)))), { 'Content-Encoding': 'gzip' });
    expect(res.status).toBe(200);
    expect(upstream.spans).toEqual([spanKey(spans[0]!)]);
  });

  it('a mount path prefix works (…/lf/api/public/ingestion), clock-driven dedup expiry', async () => {
    const s = score('mounted-1');
    expect((await post(server.url, '/lf' + INGESTION, ingestionBody([s]))).status).toBe(207);
    expect((await post(server.url, '/lf' + INGESTION, ingestionBody([s]))).status).toBe(207);
    expect(upstream.events).toEqual(['mounted-1']);
    clock += 600_001; // past dedupWindow.ttlMs: a resend is forwarded again (Langfuse stores scores by id)
    expect((await post(server.url, INGESTION, ingestionBody([s]))).status).toBe(207);
    expect(upstream.events).toEqual(['mounted-1', 'mounted-1']);
  });
});

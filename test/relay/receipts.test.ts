// The receipts query (POST …/outbox/receipts) on a relay under node:http in front of the fake Langfuse v4, over
// real HTTP on 127.0.0.1: which of the asked records the relay took (issue 23: a client whose first answer was lost
// asks before it resends). Nothing is forwarded for it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream';
import { INGESTION, ORIGIN, OTLP, PK, SK, expectPreflight, ingestionBody, otlpBody, post, score, span, spanKey, startRelayServer } from './helpers';

const RECEIPTS = '/outbox/receipts';

let upstream: FakeUpstream;
let server: Awaited<ReturnType<typeof startRelayServer>>;
/** Resolves the next time the relay's rate limiter asks for a receipts request's client (it has passed origin and key). */
let onQueryAdmitted: (() => void) | undefined;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  server = await startRelayServer({
    upstream: { baseUrl: upstream.url, publicKey: PK, secretKey: SK },
    allowOrigins: [ORIGIN],
    rateLimit: { requestsPerMinute: 6000, burst: 1000 },
    clientIp: (request) => {
      if (request.url.endsWith(RECEIPTS)) onQueryAdmitted?.();
      return '127.0.0.1';
    },
  });
});
afterAll(async () => {
  await server?.close();
  await upstream?.close();
});
beforeEach(() => upstream.reset());

type Receipts = { events: string[]; spans: string[] };
async function ask(query: unknown, base = server.url, path = RECEIPTS): Promise<Receipts> {
  const res = await post(base, path, query);
  expect(res.status).toBe(200);
  expect(res.headers.get('Content-Type')).toBe('application/json');
  expect(res.headers.get('Access-Control-Allow-Origin')).toBe(ORIGIN);
  return (await res.json()) as Receipts;
}

describe('receipts query', () => {
  it('reports the spans and events the upstream took, not the ones never sent, and forwards nothing', async () => {
    const sent = [span(31_001), span(31_002), span(31_003)];
    const scores = [score('rc-1'), score('rc-2')];
    expect((await post(server.url, OTLP, otlpBody(sent))).status).toBe(200);
    expect((await post(server.url, INGESTION, ingestionBody(scores))).status).toBe(207);
    const requests = upstream.requests.length;
    const before = server.relay.stats();
    const never = spanKey(span(31_999));
    // Asked in another order, with repeats and with ids never sent; span keys in upper case match too.
    const answer = await ask({
      events: ['rc-2', 'rc-never', 'rc-1', 'rc-2'],
      spans: [spanKey(sent[2]!), never, spanKey(sent[0]!).toUpperCase(), spanKey(sent[1]!)],
    });
    expect(answer).toEqual({ events: ['rc-2', 'rc-1'], spans: [spanKey(sent[2]!), spanKey(sent[0]!).toUpperCase(), spanKey(sent[1]!)] });
    expect(upstream.requests).toHaveLength(requests); // nothing went upstream for the query
    const after = server.relay.stats();
    expect(after.receipts - before.receipts).toBe(1);
    expect(after.receiptsTaken - before.receiptsTaken).toBe(5);
    expect(after.received).toBe(before.received);
    // Either list may be left out; an empty query is answered empty.
    expect(await ask({ spans: [spanKey(sent[0]!)] })).toEqual({ events: [], spans: [spanKey(sent[0]!)] });
    expect(await ask({ events: ['rc-1'] })).toEqual({ events: ['rc-1'], spans: [] });
    expect(await ask({})).toEqual({ events: [], spans: [] });
    // An event id is not a span key and the other way round.
    expect(await ask({ events: [spanKey(sent[0]!)], spans: ['rc-1', 'event:rc-1'] })).toEqual({ events: [], spans: [] });
  });

  it('a query while the records are still being forwarded waits for that forwarding and reports them taken', async () => {
    const spans = [span(32_001), span(32_002)];
    const scores = [score('rc-slow-1')];
    upstream.mode = 'hold';
    const forwarding = [post(server.url, OTLP, otlpBody(spans)), post(server.url, INGESTION, ingestionBody(scores))];
    await expect.poll(() => upstream.requests.length, { timeout: 10_000 }).toBe(2);
    const admitted = new Promise<void>((resolve) => (onQueryAdmitted = resolve));
    let answered = false;
    const query = ask({ events: ['rc-slow-1'], spans: spans.map(spanKey) }).finally(() => (answered = true));
    await admitted;
    onQueryAdmitted = undefined;
    // The query has passed origin and key; what is left before it looks (a small body, JSON) takes microseconds.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(answered).toBe(false); // held behind the forwarding in flight
    upstream.release();
    expect((await Promise.all(forwarding)).map((r) => r.status)).toEqual([200, 207]);
    expect(await query).toEqual({ events: ['rc-slow-1'], spans: spans.map(spanKey) });
  });

  it('records the upstream refused (5xx) or never got are not reported; once a resend is taken they are', async () => {
    const spans = [span(33_001), span(33_002)];
    const scores = [score('rc-down-1')];
    upstream.mode = '500';
    expect((await post(server.url, OTLP, otlpBody(spans))).status).toBe(503);
    expect((await post(server.url, INGESTION, ingestionBody(scores))).status).toBe(503);
    upstream.mode = 'down';
    expect((await post(server.url, OTLP, otlpBody([span(33_003)]))).status).toBe(503);
    const query = { events: ['rc-down-1'], spans: [...spans, span(33_003)].map(spanKey) };
    expect(await ask(query)).toEqual({ events: [], spans: [] });
    upstream.mode = 'ok';
    expect((await post(server.url, OTLP, otlpBody(spans))).status).toBe(200);
    expect(await ask(query)).toEqual({ events: [], spans: spans.map(spanKey) });
  });

  it('is served with the other paths\' checks: preflight, key forms, text/plain', async () => {
    expect((await post(server.url, OTLP, otlpBody([span(34_001)]))).status).toBe(200);
    const key = spanKey(span(34_001));
    await expectPreflight(server.url, RECEIPTS, 'content-type, authorization');
    const basic = await post(server.url, RECEIPTS, { spans: [key] }, { Authorization: 'Basic ' + btoa(`${PK}:`) });
    expect(await basic.json()).toEqual({ events: [], spans: [key] });
    const viaQuery = await fetch(`${server.url}${RECEIPTS}?pk=${PK}`, { method: 'POST', headers: { 'Content-Type': 'text/plain;charset=UTF-8', Origin: ORIGIN }, body: JSON.stringify({ spans: [key] }) });
    expect(viaQuery.status).toBe(200);
    expect(await viaQuery.json()).toEqual({ events: [], spans: [key] });
    // Mounted anywhere, like the other two paths.
    expect(await ask({ spans: [key] }, server.url, '/lf' + RECEIPTS)).toEqual({ events: [], spans: [key] });
  });

  it('hostile queries: each a clear 4xx with CORS where the origin is allowed, counted, nothing forwarded; the relay serves on', async () => {
    expect((await post(server.url, OTLP, otlpBody([span(35_001)]))).status).toBe(200);
    upstream.reset();
    const before = server.relay.stats();
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `id-${i}`);
    const cases: [string, () => Promise<Response>, number, RegExp, boolean][] = [
      ['not JSON', () => post(server.url, RECEIPTS, '{"events": ['), 400, /not valid JSON/, true],
      ['an empty body', () => post(server.url, RECEIPTS, ''), 400, /not valid JSON/, true],
      ['null', () => post(server.url, RECEIPTS, 'null'), 400, /not an object/, true],
      ['an array', () => post(server.url, RECEIPTS, ['a']), 400, /not an object/, true],
      ['a string', () => post(server.url, RECEIPTS, '"events"'), 400, /not an object/, true],
      ['events not an array', () => post(server.url, RECEIPTS, { events: 'a' }), 400, /events must be an array of strings/, true],
      ['spans an object', () => post(server.url, RECEIPTS, { spans: { 0: 'a' } }), 400, /spans must be an array of strings/, true],
      ['an id that is a number', () => post(server.url, RECEIPTS, { events: ['a', 7] }), 400, /events\[1\]: must be a string/, true],
      ['an id that is null', () => post(server.url, RECEIPTS, { spans: [null] }), 400, /spans\[0\]: must be a string/, true],
      ['an unknown field (a typo)', () => post(server.url, RECEIPTS, { event: ['a'] }), 400, /unknown field "event"/, true],
      ['5001 ids', () => post(server.url, RECEIPTS, { events: ids(3000), spans: ids(2001) }), 400, /at most 5000 ids/, true],
      ['an id of 257 characters', () => post(server.url, RECEIPTS, { spans: ['a'.repeat(257)] }), 400, /spans\[0\]: longer than 256 characters/, true],
      ['a body over maxBodyBytes', () => post(server.url, RECEIPTS, { events: ['a'.repeat(1_100_000)] }), 413, /larger than 1048576 bytes/, true],
      ['a secret key', () => post(server.url, RECEIPTS, { events: ['a'] }, { Authorization: `Bearer ${SK}` }), 403, /secret key/, true],
      ['a secret key in Basic', () => post(server.url, RECEIPTS, { events: ['a'] }, { Authorization: 'Basic ' + btoa(`${PK}:${SK}`) }), 403, /secret key/, true],
      ['an unknown key', () => post(server.url, RECEIPTS, { events: ['a'] }, { Authorization: 'Bearer pk-lf-other' }), 401, /unknown public key/, true],
      ['a wrong origin', () => post(server.url, RECEIPTS, { events: ['a'] }, { Origin: 'http://evil.test' }), 403, /origin http:\/\/evil.test is not allowed/, false],
      ['another Content-Type', () => post(server.url, RECEIPTS, { events: ['a'] }, { 'Content-Type': 'application/x-www-form-urlencoded' }), 415, /not supported/, true],
      ['GET', () => fetch(server.url + RECEIPTS, { headers: { Origin: ORIGIN, Authorization: `Bearer ${PK}` } }), 405, /only POST/, true],
    ];
    for (const [name, send, status, message, cors] of cases) {
      const res = await send();
      expect(res.status, name).toBe(status);
      expect(((await res.json()) as { message: string }).message, name).toMatch(message);
      expect(res.headers.get('Access-Control-Allow-Origin'), name).toBe(cors ? ORIGIN : null);
    }
    const after = server.relay.stats();
    const refused = (s: typeof after) => Object.values(s.rejected).reduce((a, b) => a + (b ?? 0), 0);
    expect(refused(after) - refused(before)).toBe(cases.length);
    expect((after.rejected.invalid ?? 0) - (before.rejected.invalid ?? 0)).toBe(10);
    expect(after.receipts).toBe(before.receipts);
    expect(upstream.requests).toHaveLength(0);
    // 5000 ids is a valid query: here 5000 span keys (49 characters each, about 260 KB), one of them taken.
    const keys = [...Array.from({ length: 4999 }, (_, i) => spanKey(span(40_000 + i))), spanKey(span(35_001))];
    expect(keys.every((k) => k.length === 49)).toBe(true);
    expect(await ask({ spans: keys })).toEqual({ events: [], spans: [spanKey(span(35_001))] });
  });

  it('with the window off (dedupWindow maxIds 0), answers 200 with empty lists', async () => {
    const off = await startRelayServer({ upstream: { baseUrl: upstream.url, publicKey: PK, secretKey: SK }, allowOrigins: [ORIGIN], dedupWindow: { maxIds: 0, ttlMs: 600_000 } });
    try {
      expect((await post(off.url, OTLP, otlpBody([span(36_001)]))).status).toBe(200);
      expect((await post(off.url, INGESTION, ingestionBody([score('rc-off')]))).status).toBe(207);
      expect(upstream.spans).toEqual([spanKey(span(36_001))]);
      expect(await ask({ events: ['rc-off'], spans: [spanKey(span(36_001))] }, off.url)).toEqual({ events: [], spans: [] });
      expect(off.relay.stats()).toMatchObject({ receipts: 1, receiptsTaken: 0 });
    } finally {
      await off.close();
    }
  });

  it('with basePath, only basePath + /outbox/receipts is served', async () => {
    const based = await startRelayServer({ upstream: { baseUrl: upstream.url, publicKey: PK, secretKey: SK }, allowOrigins: [ORIGIN], basePath: '/lf' });
    try {
      expect((await post(based.url, '/lf' + OTLP, otlpBody([span(37_001)]))).status).toBe(200);
      expect(await ask({ spans: [spanKey(span(37_001))] }, based.url, '/lf' + RECEIPTS)).toEqual({ events: [], spans: [spanKey(span(37_001))] });
      const elsewhere = await post(based.url, '/other' + RECEIPTS, { spans: [] });
      expect(elsewhere.status).toBe(404);
      expect(((await elsewhere.json()) as { message: string }).message).toMatch(/outbox\/receipts/);
    } finally {
      await based.close();
    }
  });
});

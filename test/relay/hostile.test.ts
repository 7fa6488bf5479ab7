// Hostile and mistaken input: each answered with a clear 4xx carrying CORS for an allowed origin, nothing
// forwarded, and the relay still serving afterwards.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream';
import { INGESTION, ORIGIN, OTLP, PK, SK, expectPreflight, ingestionBody, otlpBody, post, score, span, spanKey, startRelayServer } from './helpers';

let upstream: FakeUpstream;
let server: Awaited<ReturnType<typeof startRelayServer>>;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  server = await startRelayServer({
    upstream: { baseUrl: upstream.url, publicKey: PK, secretKey: SK },
    allowOrigins: [ORIGIN],
    rateLimit: { requestsPerMinute: 6000, burst: 1000 },
  });
});
afterAll(async () => {
  await server?.close();
  await upstream?.close();
});
beforeEach(() => upstream.reset());

const attrs = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: { intValue: i } }));
function nested(depth: number): unknown {
  let v: unknown = { stringValue: 'leaf' };
  for (let i = 0; i < depth; i++) v = { arrayValue: { values: [v] } };
  return v;
}
const withAttr = (value: unknown) => span(1, { attributes: [{ key: 'x', value }] });

type Case = { name: string; send: () => Promise<Response>; status: number; message: RegExp; cors?: boolean };
const cases: Case[] = [
  { name: 'a body over maxBodyBytes', send: () => post(server.url, OTLP, JSON.stringify(otlpBody([withAttr({ stringValue: 'a'.repeat(1_100_000) })]))), status: 413, message: /larger than 1048576 bytes/ },
  {
    name: 'a gzip body that inflates past maxBodyBytes',
    send: () => post(server.url, OTLP, new Uint8Array(gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20))), { 'Content-Encoding': 'gzip' }),
    status: 413,
    message: /before or after gzip/,
  },
  {
    name: 'a 5 MB attribute (gzipped small on the wire)',
    send: () => post(server.url, OTLP, new Uint8Array(gzipSync(JSON.stringify(otlpBody([withAttr({ stringValue: 'b'.repeat(5_000_000) })])))), { 'Content-Encoding': 'gzip' }),
    status: 413,
    message: /larger than/,
  },
  { name: 'a body that is not gzip but says so', send: () => post(server.url, OTLP, '{"x":1}', { 'Content-Encoding': 'gzip' }), status: 400, message: /not valid gzip/ },
  { name: 'bad JSON', send: () => post(server.url, OTLP, '{"resourceSpans": [}'), status: 400, message: /not valid JSON/ },
  { name: 'bad JSON on ingestion', send: () => post(server.url, INGESTION, 'nope'), status: 400, message: /not valid JSON/ },
  { name: 'a wrong origin', send: () => post(server.url, OTLP, otlpBody([span(1)]), { Origin: 'http://evil.test' }), status: 403, message: /origin http:\/\/evil.test is not allowed/, cors: false },
  {
    name: 'no origin',
    send: () => fetch(server.url + OTLP, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${PK}` }, body: JSON.stringify(otlpBody([span(1)])) }),
    status: 403,
    message: /without an Origin/,
    cors: false,
  },
  { name: 'an unknown key', send: () => post(server.url, OTLP, otlpBody([span(1)]), { Authorization: 'Bearer pk-lf-other' }), status: 401, message: /unknown public key/ },
  { name: 'no key at all', send: () => post(server.url, OTLP, otlpBody([span(1)]), { Authorization: '' }), status: 401, message: /no public key/ },
  { name: 'a secret key as Bearer', send: () => post(server.url, OTLP, otlpBody([span(1)]), { Authorization: `Bearer ${SK}` }), status: 403, message: /never ship the Langfuse secret key/ },
  {
    name: 'a secret key as Basic pk:sk',
    send: () => post(server.url, OTLP, otlpBody([span(1)]), { Authorization: 'Basic ' + Buffer.from(`${PK}:${SK}`).toString('base64') }),
    status: 403,
    message: /never ship the Langfuse secret key/,
  },
  {
    name: 'a secret key in ?pk= of a beacon',
    send: () => fetch(`${server.url}${OTLP}?pk=${SK}`, { method: 'POST', headers: { 'Content-Type': 'text/plain', Origin: ORIGIN }, body: JSON.stringify(otlpBody([span(1)])) }),
    status: 403,
    message: /never ship/,
  },
  { name: '10 000 attributes', send: () => post(server.url, OTLP, otlpBody([span(1, { attributes: attrs(10_000) })])), status: 400, message: /spans\[0\]\.attributes: has 10000 attributes, more than 256/ },
  { name: '100-deep nesting', send: () => post(server.url, OTLP, otlpBody([withAttr(nested(100))])), status: 400, message: /nests deeper than 8 levels/ },
  { name: 'a trace id that is not hex', send: () => post(server.url, OTLP, otlpBody([span(1), span(2, { traceId: 'z'.repeat(32) })])), status: 400, message: /spans\[1\]\.traceId: must be 32 hex/ },
  { name: 'a span id that is not hex', send: () => post(server.url, OTLP, otlpBody([span(1, { spanId: '12345' })])), status: 400, message: /spans\[0\]\.spanId: must be 16 hex/ },
  { name: 'a parent span id that is not hex', send: () => post(server.url, OTLP, otlpBody([span(1, { parentSpanId: 'g'.repeat(16) })])), status: 400, message: /parentSpanId/ },
  { name: 'a KeyValue without value', send: () => post(server.url, OTLP, otlpBody([span(1, { attributes: [{ key: 'x' }] })])), status: 400, message: /attributes\[0\]\.value: a KeyValue without a value/ },
  { name: 'an empty AnyValue', send: () => post(server.url, OTLP, otlpBody([withAttr({})])), status: 400, message: /KeyValue without a value/ },
  { name: 'times that are not decimal', send: () => post(server.url, OTLP, otlpBody([span(1, { startTimeUnixNano: '2026-12-01' })])), status: 400, message: /startTimeUnixNano: must be unix nanoseconds/ },
  {
    name: 'an unknown observation type',
    send: () => post(server.url, OTLP, otlpBody([span(1, { attributes: [{ key: 'langfuse.observation.type', value: { stringValue: 'GENERATION' } }] })])),
    status: 400,
    message: /langfuse.observation.type must be a stringValue, one of span, generation/,
  },
  {
    name: 'usage_details with a negative count',
    send: () => post(server.url, OTLP, otlpBody([span(1, { attributes: [{ key: 'langfuse.observation.usage_details', value: { stringValue: '{"input":-1}' } }] })])),
    status: 400,
    message: /non-negative integers/,
  },
  { name: 'a level that is not one of four', send: () => post(server.url, OTLP, otlpBody([span(1, { attributes: [{ key: 'langfuse.observation.level', value: { stringValue: 'FATAL' } }] })])), status: 400, message: /DEBUG, DEFAULT, WARNING, ERROR/ },
  { name: 'not an ExportTraceServiceRequest', send: () => post(server.url, OTLP, [1, 2]), status: 400, message: /ExportTraceServiceRequest/ },
  { name: 'an ingestion body without batch', send: () => post(server.url, INGESTION, { events: [] }), status: 400, message: /batch: must be a list/ },
  { name: 'a protobuf body', send: () => post(server.url, OTLP, 'x', { 'Content-Type': 'application/x-protobuf' }), status: 415, message: /application\/json/ },
  { name: 'GET', send: () => fetch(server.url + OTLP, { headers: { Origin: ORIGIN } }), status: 405, message: /only POST/ },
  { name: 'another path', send: () => post(server.url, '/api/public/projects', {}), status: 404, message: /not found/ },
];

describe('hostile input', () => {
  let probe = 100_000;
  for (const c of cases) {
    it(`${c.name} → ${c.status}, nothing forwarded, still serving`, async () => {
      const res = await c.send();
      const body = (await res.json()) as { message: string };
      expect(res.status).toBe(c.status);
      expect(body.message).toMatch(c.message);
      if (c.cors === false) expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();
      else {
        expect(res.headers.get('Access-Control-Allow-Origin')).toBe(ORIGIN);
        expect(res.headers.get('Access-Control-Expose-Headers')).toBe('Retry-After');
      }
      expect(upstream.requests.length).toBe(0);
      const fresh = span(probe++);
      const ok = await post(server.url, OTLP, otlpBody([fresh]));
      expect(ok.status).toBe(200);
      expect(upstream.spans).toEqual([spanKey(fresh)]);
    });
  }

  it('a trace-create event from a page is refused per event (207), the score next to it forwarded', async () => {
    const trace = { id: 'tc-1', type: 'trace-create', timestamp: '2026-12-01T10:00:00Z', body: { id: 'trace-1', name: 'x' } };
    const res = await post(server.url, INGESTION, ingestionBody([trace]));
    expect(res.status).toBe(207);
    const body = (await res.json()) as { successes: unknown[]; errors: { id: string; status: number; message: string }[] };
    expect(body.successes).toEqual([]);
    expect(body.errors).toEqual([{ id: 'tc-1', status: 400, message: expect.stringMatching(/"trace-create" is not accepted from pages/) }]);
    expect(upstream.requests.length).toBe(0);
  });

  it.each([
    ['BOOLEAN score of 2', { dataType: 'BOOLEAN', value: 2 }, /BOOLEAN score needs 0 or 1/],
    ['TEXT score of 501 characters', { dataType: 'TEXT', value: 'x'.repeat(501) }, /1–500 characters/],
    ['observationId without traceId', { traceId: undefined, sessionId: 's1', observationId: 'o1' }, /observationId needs traceId/],
    ['two targets', { sessionId: 's1' }, /exactly one of traceId/],
    ['an empty name', { name: '' }, /name: must be a non-empty string/],
  ])('score rule: %s → per-event 400', async (_name, extra, message) => {
    const res = await post(server.url, INGESTION, ingestionBody([score('rule-1', extra)]));
    const body = (await res.json()) as { errors: { id: string; message: string }[] };
    expect(res.status).toBe(207);
    expect(body.errors[0]!.id).toBe('rule-1');
    expect(body.errors[0]!.message).toMatch(message);
    expect(upstream.requests.length).toBe(0);
  });

  it('a bad timestamp on an event is refused per event', async () => {
    const res = await post(server.url, INGESTION, ingestionBody([{ ...score('ts-1'), timestamp: 'yesterday' }, score('ts-2')]));
    const body = (await res.json()) as { successes: { id: string }[]; errors: { id: string; message: string }[] };
    expect(body.errors.map((e) => e.id)).toEqual(['ts-1']);
    expect(body.successes.map((s) => s.id)).toEqual(['ts-2']);
    expect(upstream.events).toEqual(['ts-2']);
  });

  it('counts rejections by reason', () => {
    const r = server.relay.stats().rejected;
    expect(r['secret-key']).toBeGreaterThanOrEqual(3);
    expect(r.origin).toBe(2);
    expect(r['unknown-key']).toBe(1);
    expect(r['no-key']).toBe(1);
    expect(r['too-large']).toBe(3);
    expect(r['invalid-event']).toBeGreaterThanOrEqual(6);
  });
});

describe('CORS', () => {
  it('a preflight from an allowed origin: 204, requested headers reflected, Max-Age', async () => {
    const res = await expectPreflight(server.url, OTLP, 'content-type, authorization, content-encoding');
    expect(res.headers.get('Access-Control-Allow-Methods')).toContain('POST');
    expect(res.headers.get('Access-Control-Max-Age')).toBe('86400');
  });

  it('a preflight from another origin: 403 without Allow-Origin', async () => {
    const res = await fetch(server.url + OTLP, { method: 'OPTIONS', headers: { Origin: 'http://evil.test', 'Access-Control-Request-Method': 'POST' } });
    expect(res.status).toBe(403);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });

  it('success answers carry CORS too', async () => {
    for (const res of [await post(server.url, OTLP, otlpBody([span(880)])), await post(server.url, INGESTION, ingestionBody([score('cors-1')]))]) {
      expect(res.headers.get('Access-Control-Allow-Origin')).toBe(ORIGIN);
      expect(res.headers.get('Access-Control-Expose-Headers')).toBe('Retry-After');
    }
  });

  it('default origins: only the relay URL’s own origin', async () => {
    const same = await startRelayServer({ upstream: { baseUrl: upstream.url, publicKey: PK, secretKey: SK } });
    try {
      const own = new URL(same.url).origin;
      expect((await post(same.url, OTLP, otlpBody([span(990)]), { Origin: own })).status).toBe(200);
      expect((await post(same.url, OTLP, otlpBody([span(991)]), { Origin: ORIGIN })).status).toBe(403);
    } finally {
      await same.close();
    }
  });
});

describe('rate limit', () => {
  it('a client past its burst gets 429 with Retry-After (and CORS); other keys and clients are not affected', async () => {
    let now = 0;
    const limited = await startRelayServer({
      upstream: { baseUrl: upstream.url, publicKey: PK, secretKey: SK },
      publicKeys: [PK, 'pk-lf-second'],
      allowOrigins: [ORIGIN],
      rateLimit: { requestsPerMinute: 60, burst: 3 },
      now: () => now,
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await post(limited.url, OTLP, otlpBody([span(60_000 + i)]))).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      const res = await post(limited.url, OTLP, otlpBody([span(60_010)]));
      expect(res.headers.get('Retry-After')).toBe('1');
      expect(res.headers.get('Access-Control-Allow-Origin')).toBe(ORIGIN);
      expect((await post(limited.url, OTLP, otlpBody([span(60_011)]), { Authorization: 'Bearer pk-lf-second' })).status).toBe(200);
      now += 1000; // one token back
      expect((await post(limited.url, OTLP, otlpBody([span(60_012)]))).status).toBe(200);
      expect((await post(limited.url, OTLP, otlpBody([span(60_013)]))).status).toBe(429);
    } finally {
      await limited.close();
    }
  });
});

describe('internal errors', () => {
  it('an exception inside the relay is a 500 with CORS and onError, and it keeps serving', async () => {
    const errors: Error[] = [];
    let explode = true;
    const fragile = await startRelayServer({
      upstream: { baseUrl: upstream.url, publicKey: PK, secretKey: SK },
      allowOrigins: [ORIGIN],
      clientIp: () => {
        if (explode) throw new Error('boom');
        return 'x';
      },
      onError: (e) => errors.push(e),
    });
    try {
      const res = await post(fragile.url, OTLP, otlpBody([span(70_000)]));
      expect(res.status).toBe(500);
      expect(res.headers.get('Access-Control-Allow-Origin')).toBe(ORIGIN);
      expect(errors.map((e) => e.message)).toEqual(['boom']);
      explode = false;
      expect((await post(fragile.url, OTLP, otlpBody([span(70_001)]))).status).toBe(200);
    } finally {
      await fragile.close();
    }
  });
});

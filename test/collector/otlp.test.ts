/**
 * The collector's OTLP/HTTP JSON route (/api/public/otel/v1/traces), answering as Langfuse's does: auth, content
 * types, gzip, whole-batch 400s, the attribute mapping, duplicates counted per span id, and the fault modes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import zlib from 'node:zlib';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';

type AnyValue = { stringValue: string } | { intValue: string | number } | { doubleValue: number } | { boolValue: boolean } | { arrayValue: { values: AnyValue[] } };
interface KeyValue {
  key: string;
  value?: AnyValue;
}

let seq = 0;
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
const newTraceId = () => hex(++seq, 32);
const newSpanId = () => hex(++seq, 16);
const BASE_NS = 1_700_000_000_000_000_000n;

/** One attribute from a plain value (strings, integers, doubles, booleans, arrays). */
function kv(key: string, value: unknown): KeyValue {
  const any = (v: unknown): AnyValue =>
    typeof v === 'string' ? { stringValue: v }
      : typeof v === 'boolean' ? { boolValue: v }
        : typeof v === 'number' ? (Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v })
          : Array.isArray(v) ? { arrayValue: { values: v.map(any) } }
            : { stringValue: JSON.stringify(v) };
  return { key, value: any(value) };
}

interface SpanInit {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  startMs?: number;
  durationMs?: number;
  attributes?: Record<string, unknown>;
  status?: { code?: number; message?: string };
}
function span(init: SpanInit = {}) {
  const start = BASE_NS + BigInt(init.startMs ?? 0) * 1_000_000n;
  const end = start + BigInt(init.durationMs ?? 10) * 1_000_000n + 123_456n; // sub-ms part is truncated
  return {
    traceId: init.traceId ?? newTraceId(),
    spanId: init.spanId ?? newSpanId(),
    ...(init.parentSpanId ? { parentSpanId: init.parentSpanId } : {}),
    name: init.name ?? 'op',
    kind: 1,
    startTimeUnixNano: String(start),
    endTimeUnixNano: String(end),
    attributes: Object.entries(init.attributes ?? {}).map(([k, v]) => kv(k, v)),
    status: init.status ?? {},
    events: [],
  };
}
function exportOf(spans: unknown[], opts: { resource?: Record<string, unknown>; scope?: { name: string; version?: string } } = {}) {
  return {
    resourceSpans: [
      {
        resource: { attributes: Object.entries(opts.resource ?? { 'service.name': 'test-svc' }).map(([k, v]) => kv(k, v)) },
        scopeSpans: [{ scope: opts.scope ?? { name: 'langfuse-sdk', version: '1.0.0' }, spans }],
      },
    ],
  };
}

const BASIC = `Basic ${Buffer.from('pk-lf-1:sk-lf-1').toString('base64')}`;

let c: Collector;
async function send(body: unknown, init: { headers?: Record<string, string>; raw?: BodyInit; path?: string } = {}) {
  const res = await fetch(`${c.url}${init.path ?? '/api/public/otel/v1/traces'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: BASIC, ...init.headers },
    body: init.raw ?? JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, text, headers: res.headers };
}

beforeAll(async () => {
  c = await startCollector({ langfuse: 'v4' });
});
afterAll(() => c.close());
beforeEach(() => c.reset());

describe('OTLP route: requests', () => {
  it('exposes otlpEndpoint and stores a valid export, answering 200 {}', async () => {
    expect(c.otlpEndpoint).toBe(`${c.url}/api/public/otel/v1/traces`);
    const s = span({ name: 'one' });
    const res = await send(exportOf([s]));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({});
    expect(c.observations().map((o) => o.id)).toEqual([s.spanId]);
    expect(c.stats()).toMatchObject({ spansReceived: 1, observationsStored: 1, spanDuplicates: 0, tracesStored: 1, byStatus: { '200': 1 } });
    expect(c.requests()[0]).toMatchObject({ path: 'otlp', status: 200, count: 1, ids: [s.spanId], auth: 'basic' });
    const trailing = await send(exportOf([span()]), { path: '/api/public/otel/v1/traces/' });
    expect(trailing.status).toBe(200);
    expect(c.observations()).toHaveLength(2);
  });

  it('auth: only Basic pk:sk; none or junk → 401, Bearer → 403', async () => {
    const body = exportOf([span()]);
    expect((await send(body, { headers: { authorization: '' } })).status).toBe(401);
    expect((await send(body, { headers: { authorization: 'Basic !!!notbase64' } })).status).toBe(401);
    expect((await send(body, { headers: { authorization: `Basic ${Buffer.from('pk-only').toString('base64')}` } })).status).toBe(401);
    const bearer = await send(body, { headers: { authorization: 'Bearer pk-lf-1' } });
    expect(bearer.status).toBe(403);
    expect(bearer.json).toEqual({ message: 'insufficient permissions for this endpoint' });
    const query = await fetch(`${c.otlpEndpoint}?pk=pk-lf-1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(query.status).toBe(401);
    expect(c.observations()).toHaveLength(0);
    expect((await send(body)).status).toBe(200);
  });

  it('content types: JSON (with parameters) ok; protobuf 415; text/plain or none → 400 {error}', async () => {
    expect((await send(exportOf([span()]), { headers: { 'content-type': 'application/json; charset=utf-8' } })).status).toBe(200);
    const proto = await send(exportOf([span()]), { headers: { 'content-type': 'application/x-protobuf' } });
    expect(proto.status).toBe(415);
    expect(String(proto.json.message)).toMatch(/protobuf not supported/);
    const plain = await send(exportOf([span()]), { headers: { 'content-type': 'text/plain;charset=UTF-8' } });
    expect(plain.status).toBe(400);
    expect(plain.json).toEqual({ error: 'Invalid content type' });
    const none = await fetch(c.otlpEndpoint, { method: 'POST', headers: { authorization: BASIC }, body: new Uint8Array(Buffer.from(JSON.stringify(exportOf([span()])))) });
    expect(none.status).toBe(400);
    expect(c.observations()).toHaveLength(1);
  });

  it('gzip is undone before the content type is checked; a bomb is 413; corrupt gzip 400', async () => {
    const s = span();
    const ok = await send(null, { headers: { 'content-encoding': 'gzip' }, raw: zlib.gzipSync(JSON.stringify(exportOf([s]))) });
    expect(ok.status).toBe(200);
    expect(c.observations().map((o) => o.id)).toEqual([s.spanId]);
    const bomb = zlib.gzipSync(Buffer.alloc(50 * 1024 * 1024));
    const big = await send(null, { headers: { 'content-encoding': 'gzip' }, raw: bomb });
    expect(big.status).toBe(413);
    expect((await send(null, { headers: { 'content-encoding': 'gzip' }, raw: 'not gzip' })).status).toBe(400);
    expect(c.observations()).toHaveLength(1);
  });

  it('x-langfuse-ingestion-version above 4 → 400; 4 is fine', async () => {
    expect((await send(exportOf([span()]), { headers: { 'x-langfuse-ingestion-version': '5' } })).status).toBe(400);
    expect((await send(exportOf([span()]), { headers: { 'x-langfuse-ingestion-version': '4' } })).status).toBe(200);
  });

  it('invalid JSON and a wrong top-level shape → 400, nothing stored', async () => {
    expect((await send(null, { raw: '{"resourceSpans": [' })).status).toBe(400);
    const wrong = await send({ resourceSpans: 'x' });
    expect(wrong.status).toBe(400);
    expect(String(wrong.json.message)).toMatch(/resourceSpans/);
    expect(c.stats()).toMatchObject({ observationsStored: 0, invalidSpanBatches: 1 });
  });

  it('one malformed span refuses the whole batch with 400 naming the span, and nothing is stored', async () => {
    const good = span();
    const { spanId: _dropped, ...noSpanId } = span();
    const res = await send(exportOf([good, noSpanId]));
    expect(res.status).toBe(400);
    expect(String(res.json.message)).toMatch(/span 1 \(resourceSpans\.0\.scopeSpans\.0\.spans\.1\).*spanId/);
    const noTrace = await send(exportOf([good, good, { ...good, traceId: undefined }]));
    expect(String(noTrace.json.message)).toMatch(/span 2 .*traceId/);
    const badShape = await send(exportOf([{ ...good, attributes: { 'a': 1 } }]));
    expect(badShape.status).toBe(400);
    expect(String(badShape.json.message)).toMatch(/span 0 .*attributes/);
    const upper = await send(exportOf([{ ...good, spanId: good.spanId.toUpperCase().replace(/^0/, 'A') }]));
    expect(upper.status).toBe(400);
    expect(c.observations()).toHaveLength(0);
  });

  it('a KeyValue without value, or events: [null], is refused with 400 saying Langfuse would lose the batch', async () => {
    const s = span();
    const noValue = await send(exportOf([span(), { ...s, attributes: [{ key: 'langfuse.observation.input' }] }]));
    expect(noValue.status).toBe(400);
    expect(String(noValue.json.message)).toMatch(/span 1 .*'langfuse\.observation\.input' has no value.*Langfuse would accept.*lose/);
    const nullEvent = await send(exportOf([{ ...s, events: [null] }]));
    expect(nullEvent.status).toBe(400);
    expect(String(nullEvent.json.message)).toMatch(/events\.0 .*null.*Langfuse would accept/);
    const resource = await send({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name' }] }, scopeSpans: [{ spans: [s] }] }] });
    expect(resource.status).toBe(400);
    expect(String(resource.json.message)).toMatch(/resource attribute 'service\.name' has no value/);
    expect(c.observations()).toHaveLength(0);
    const withEvent = await send(exportOf([{ ...s, events: [{ name: 'e', timeUnixNano: '1', attributes: [] }] }]));
    expect(withEvent.status).toBe(200);
  });
});

describe('OTLP route: mapping', () => {
  it('a generation: model, parameters, usage (total added), cost, input/output as sent, prompt, completion start', async () => {
    const traceId = newTraceId();
    const root = span({ traceId, name: 'turn', durationMs: 100, attributes: { 'langfuse.observation.input': '{"q":"hi"}', 'langfuse.observation.output': '"bye"' } });
    const llm = span({
      traceId,
      parentSpanId: root.spanId,
      name: 'llm',
      startMs: 5,
      durationMs: 40,
      attributes: {
        'langfuse.observation.type': 'generation',
        'langfuse.observation.model.name': 'gpt-4o',
        'langfuse.observation.model.parameters': '{"temperature":0.2}',
        'langfuse.observation.usage_details': '{"input":12,"output":30}',
        'langfuse.observation.cost_details': '{"input":0.001,"output":0.002}',
        'langfuse.observation.input': '[{"role":"user","content":"hi"}]',
        'langfuse.observation.output': '{"role":"assistant","content":"bye"}',
        'langfuse.observation.completion_start_time': '2023-11-14T22:13:20.010Z',
        'langfuse.observation.prompt.name': 'greeting',
        'langfuse.observation.prompt.version': 3,
        'langfuse.observation.metadata': '{"a":1}',
        'langfuse.observation.metadata.b': 'two',
      },
    });
    expect((await send(exportOf([llm, root]))).status).toBe(200);
    const [o] = c.observations({ type: 'generation' });
    expect(o).toMatchObject({
      id: llm.spanId,
      traceId,
      parentObservationId: root.spanId,
      type: 'generation',
      name: 'llm',
      startTime: 1_700_000_000_005,
      endTime: 1_700_000_000_045,
      model: 'gpt-4o',
      modelParameters: { temperature: 0.2 },
      usageDetails: { input: 12, output: 30, total: 42 },
      costDetails: { input: 0.001, output: 0.002 },
      input: '[{"role":"user","content":"hi"}]',
      output: '{"role":"assistant","content":"bye"}',
      completionStartTime: Date.parse('2023-11-14T22:13:20.010Z'),
      promptName: 'greeting',
      promptVersion: 3,
      metadata: { a: 1, b: 'two' },
      level: 'DEFAULT',
      serviceName: 'test-svc',
      scope: { name: 'langfuse-sdk', version: '1.0.0' },
      arrivals: 1,
    });
    expect(o!.raw).toEqual(llm);
    const [trace] = c.traces();
    expect(trace).toMatchObject({ id: traceId, name: 'turn', input: '{"q":"hi"}', output: '"bye"', rootObservationId: root.spanId, observationCount: 2, startTime: 1_700_000_000_000, endTime: 1_700_000_000_100 });
  });

  it('types: exact lower-case list; a model attribute makes a generation; otherwise span; prompt only on generations', async () => {
    const spans = [
      span({ name: 'tool', attributes: { 'langfuse.observation.type': 'tool' } }),
      span({ name: 'caps', attributes: { 'langfuse.observation.type': 'GENERATION' } }),
      span({ name: 'req', attributes: { 'gen_ai.request.model': 'claude' } }),
      span({ name: 'resp', attributes: { 'gen_ai.response.model': 'gpt-x', 'gen_ai.usage.input_tokens': 5, 'gen_ai.usage.output_tokens': 7 } }),
      span({ name: 'plain', attributes: { 'langfuse.observation.prompt.name': 'p' } }),
      ...['event', 'agent', 'chain', 'retriever', 'evaluator', 'embedding', 'guardrail'].map((t) => span({ name: t, attributes: { 'langfuse.observation.type': t } })),
    ];
    expect((await send(exportOf(spans))).status).toBe(200);
    const byName = Object.fromEntries(c.observations().map((o) => [o.name, o]));
    expect(byName.tool!.type).toBe('tool');
    expect(byName.caps!.type).toBe('span');
    expect(byName.req).toMatchObject({ type: 'generation', model: 'claude' });
    expect(byName.resp).toMatchObject({ type: 'generation', model: 'gpt-x', usageDetails: { input: 5, output: 7, total: 12 } });
    expect(byName.plain).toMatchObject({ type: 'span', promptName: null });
    for (const t of ['event', 'agent', 'chain', 'retriever', 'evaluator', 'embedding', 'guardrail']) expect(byName[t]!.type).toBe(t);
  });

  it('level: the attribute, else status code 2 → ERROR, else DEFAULT; status message', async () => {
    const spans = [
      span({ name: 'warn', attributes: { 'langfuse.observation.level': 'WARNING', 'langfuse.observation.status_message': 'page left' } }),
      span({ name: 'err', status: { code: 2, message: 'boom' } }),
      span({ name: 'ok', status: { code: 1 } }),
      span({ name: 'junk-level', attributes: { 'langfuse.observation.level': 'loud' } }),
    ];
    expect((await send(exportOf(spans))).status).toBe(200);
    const byName = Object.fromEntries(c.observations().map((o) => [o.name, o]));
    expect(byName.warn).toMatchObject({ level: 'WARNING', statusMessage: 'page left' });
    expect(byName.err).toMatchObject({ level: 'ERROR', statusMessage: 'boom' });
    expect(byName.ok).toMatchObject({ level: 'DEFAULT', statusMessage: null });
    expect(byName['junk-level']!.level).toBe('DEFAULT');
  });

  it('trace attributes read per span: name, user, session, tags, public, metadata, release, version, environment', async () => {
    const traceId = newTraceId();
    const root = span({
      traceId,
      name: 'root',
      attributes: {
        'langfuse.trace.name': 'chat',
        'user.id': 'u-1',
        'session.id': 's-1',
        'langfuse.trace.tags': ['a', 'b'],
        'langfuse.trace.public': true,
        'langfuse.trace.metadata.plan': 'pro',
        'langfuse.environment': 'Langfuse-Staging',
        'langfuse.release': 'r-9',
        'langfuse.version': 'v-2',
        'langfuse.trace.input': 'dropped on this path',
      },
    });
    const child = span({
      traceId,
      parentSpanId: root.spanId,
      attributes: { 'langfuse.user.id': 'u-2', 'langfuse.session.id': 's-2', 'langfuse.trace.tags': ['b', 'c'], 'langfuse.trace.metadata.region': 'eu' },
    });
    expect((await send(exportOf([root, child]))).status).toBe(200);
    expect(c.observations({ traceId })[0]).toMatchObject({
      trace: { name: 'chat', userId: 'u-1', sessionId: 's-1', tags: ['a', 'b'], public: true, metadata: { plan: 'pro' } },
      environment: 'staging',
      release: 'r-9',
      version: 'v-2',
    });
    const [trace] = c.traces();
    expect(trace).toMatchObject({
      id: traceId,
      name: 'chat',
      userId: 'u-2',
      sessionId: 's-2',
      tags: ['a', 'b', 'c'],
      public: true,
      metadata: { plan: 'pro', region: 'eu' },
      environment: 'staging',
      release: 'r-9',
      serviceName: 'test-svc',
      input: null,
    });
  });

  it('environment normalization: lower case, langfuse- prefix stripped, else default; from the resource too', async () => {
    const cases: [unknown, string][] = [
      ['Production', 'production'],
      ['langfuse-dev', 'dev'],
      ['with space', 'default'],
      ['x'.repeat(41), 'default'],
      ['ok_name-1', 'ok_name-1'],
    ];
    const spans = cases.map(([env], i) => span({ name: `env-${i}`, attributes: { 'langfuse.environment': env } }));
    expect((await send(exportOf(spans))).status).toBe(200);
    expect(c.observations().map((o) => o.environment)).toEqual(cases.map(([, want]) => want));
    expect((await send(exportOf([span({ name: 'none' })]))).status).toBe(200);
    expect(c.observations({ name: 'none' })[0]!.environment).toBe('default');
    expect((await send(exportOf([span({ name: 'res' })], { resource: { 'langfuse.environment': 'QA' } }))).status).toBe(200);
    expect(c.observations({ name: 'res' })[0]!.environment).toBe('qa');
  });

  it('a foreign scope keeps its other attributes as metadata.attributes; the Langfuse SDK scope does not', async () => {
    const attrs = { 'http.method': 'GET', 'langfuse.observation.metadata.k': 'v' };
    expect((await send(exportOf([span({ name: 'foreign', attributes: attrs })], { scope: { name: 'my-instrumentation' } }))).status).toBe(200);
    expect((await send(exportOf([span({ name: 'ours', attributes: attrs })]))).status).toBe(200);
    expect(c.observations({ name: 'foreign' })[0]!.metadata).toEqual({ k: 'v', attributes: { 'http.method': 'GET' } });
    expect(c.observations({ name: 'ours' })[0]!.metadata).toEqual({ k: 'v' });
  });
});

describe('OTLP route: duplicates', () => {
  it('stores each span id once and counts every resend, within and across batches', async () => {
    const a = span();
    const b = span();
    expect((await send(exportOf([a, b, a]))).status).toBe(200);
    expect((await send(exportOf([a]))).status).toBe(200);
    expect((await send(exportOf([{ ...b, name: 'changed' }]))).status).toBe(200);
    expect(c.observations().map((o) => [o.id, o.name, o.arrivals])).toEqual([[a.spanId, a.name, 3], [b.spanId, b.name, 2]]);
    expect(c.spanArrivals()).toEqual({ [a.spanId]: 3, [b.spanId]: 2 });
    expect(c.stats()).toMatchObject({ spansReceived: 5, observationsStored: 2, spanDuplicates: 3, spanConflicts: 1, duplicates: 0 });
    const control = (await (await fetch(`${c.url}/control/span-arrivals`)).json()) as { arrivals: Record<string, number> };
    expect(control.arrivals).toEqual(c.spanArrivals());
  });
});

describe('OTLP route: faults', () => {
  it('status 503 with Retry-After, then stored; down; slow — on the OTLP route', async () => {
    c.setFault({ mode: 'status', status: 503, retryAfter: 3, times: 1 });
    const s = span();
    const first = await send(exportOf([s]));
    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBe('3');
    expect(first.json).toEqual({ message: 'injected fault: status 503' });
    expect(c.observations()).toHaveLength(0);
    expect((await send(exportOf([s]))).status).toBe(200);

    c.setFault({ mode: 'down', times: 1 });
    await expect(send(exportOf([span()]))).rejects.toThrow();
    expect(c.requests().at(-1)).toMatchObject({ path: 'otlp', status: 0 });

    c.setFault({ mode: 'slow', delayMs: 300, times: 1 });
    const pending = send(exportOf([span({ name: 'slow' })]));
    await c.waitFor((x) => x.observations({ name: 'slow' }).length === 1);
    expect(c.requests().filter((r) => r.status === 200)).toHaveLength(1); // not answered yet
    expect((await pending).status).toBe(200);
  });

  it('status 429 carries Langfuse Cloud\'s rate-limit body with retryAfterSeconds', async () => {
    c.setFault({ mode: 'status', status: 429, retryAfter: '7', times: 1 });
    const res = await send(exportOf([span()]));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.json).toMatchObject({ code: 'rate_limited', details: { retryAfterSeconds: 7 } });
  });

  it('path targets one route: an ingestion-only fault neither applies to OTLP nor is used up by it', async () => {
    c.setFault({ mode: 'status', status: 500, times: 1, path: 'ingestion' });
    expect((await send(exportOf([span()]))).status).toBe(200);
    expect(c.fault()).toEqual({ mode: 'status', status: 500, times: 1, path: 'ingestion' });
    c.setFault({ mode: 'status', status: 500, times: 1, path: 'otlp' });
    const ingestion = await fetch(c.endpoint, { method: 'POST', headers: { 'content-type': 'application/json', authorization: BASIC }, body: JSON.stringify({ batch: [] }) });
    expect(ingestion.status).toBe(207);
    expect((await send(exportOf([span()]))).status).toBe(500);
    // OTLP-only modes are not used up by /ingestion either.
    c.setFault({ mode: 'partial-success', rejectedSpans: 1, times: 1 });
    await fetch(c.endpoint, { method: 'POST', headers: { 'content-type': 'application/json', authorization: BASIC }, body: JSON.stringify({ batch: [] }) });
    expect(c.fault()).toEqual({ mode: 'partial-success', rejectedSpans: 1, times: 1 });
  });

  it('partial-success: 200 with partialSuccess, the first N spans not stored, the others stored', async () => {
    c.setFault({ mode: 'partial-success', rejectedSpans: 2, errorMessage: 'quota', times: 1 });
    const spans = [span(), span(), span()];
    const res = await send(exportOf(spans));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ partialSuccess: { rejectedSpans: 2, errorMessage: 'quota' } });
    expect(c.observations().map((o) => o.id)).toEqual([spans[2]!.spanId]);
    expect(c.stats()).toMatchObject({ spansReceived: 3, rejectedSpans: 2, observationsStored: 1 });
    expect((await send(exportOf([span()]))).json).toEqual({});
  });

  it('reject-span: a batch holding the matching span (by name or id) is 400 whole; without it, stored', async () => {
    const poison = span({ name: 'poison' });
    c.setFault({ mode: 'reject-span', match: 'poison' });
    const mixed = [span(), poison, span()];
    const res = await send(exportOf(mixed));
    expect(res.status).toBe(400);
    expect(String(res.json.message)).toMatch(/reject-span.*span 1 'poison'/);
    expect(c.observations()).toHaveLength(0);
    // Bisection: the halves without it go through.
    expect((await send(exportOf([mixed[0]])))).toMatchObject({ status: 200 });
    expect((await send(exportOf([mixed[2]])))).toMatchObject({ status: 200 });
    expect((await send(exportOf([poison]))).status).toBe(400);
    const other = span({ name: 'fine' });
    c.setFault({ mode: 'reject-span', match: other.spanId });
    expect((await send(exportOf([other]))).status).toBe(400);
    expect(c.observations()).toHaveLength(2);
    expect(c.stats().invalidSpanBatches).toBe(0);
    // It never touches /ingestion.
    const ingestion = await fetch(c.endpoint, { method: 'POST', headers: { 'content-type': 'application/json', authorization: BASIC }, body: JSON.stringify({ batch: [] }) });
    expect(ingestion.status).toBe(207);
  });

  it('fail-ids by span id: the whole batch refused with the listed status, nothing stored', async () => {
    const bad = span();
    const good = span();
    c.setFault({ mode: 'fail-ids', ids: { [bad.spanId]: 400 } });
    const res = await send(exportOf([good, bad]));
    expect(res.status).toBe(400);
    expect(String(res.json.message)).toMatch(new RegExp(`fail-ids.*${bad.spanId}`));
    expect(c.observations()).toHaveLength(0);
    expect((await send(exportOf([good]))).status).toBe(200);
  });

  it('OTLP-only modes may not target /ingestion', () => {
    expect(() => c.setFault({ mode: 'reject-span', match: 'x', path: 'ingestion' } as never)).toThrow(TypeError);
    expect(() => c.setFault({ mode: 'partial-success', rejectedSpans: 0 })).toThrow(TypeError);
  });
});

describe('OTLP route: control API and keys', () => {
  it('GET /control/observations, /control/traces (with children and scores) and reset', async () => {
    const traceId = newTraceId();
    const root = span({ traceId, name: 'root' });
    await send(exportOf([root, span({ traceId, parentSpanId: root.spanId, name: 'child' }), span({ name: 'other', startMs: 1000 })]));
    const score = { id: 'sc-1', type: 'score-create', timestamp: new Date().toISOString(), body: { name: 'thumbs', value: 1, traceId } };
    expect((await fetch(c.endpoint, { method: 'POST', headers: { 'content-type': 'application/json', authorization: BASIC }, body: JSON.stringify({ batch: [score] }) })).status).toBe(207);

    const obs = (await (await fetch(`${c.url}/control/observations?traceId=${traceId}`)).json()) as { observations: { name: string }[] };
    expect(obs.observations.map((o) => o.name)).toEqual(['root', 'child']);
    const traces = (await (await fetch(`${c.url}/control/traces?observations=1`)).json()) as { traces: { id: string; name: string; observations: unknown[]; scores: { name: string }[] }[] };
    expect(traces.traces.map((t) => t.name)).toEqual(['other', 'root']);
    expect(traces.traces[1]!.observations).toHaveLength(2);
    expect(traces.traces[1]!.scores.map((s) => s.name)).toEqual(['thumbs']);
    expect((await (await fetch(`${c.url}/control/traces?limit=1`)).json()).traces).toHaveLength(1);
    expect((await (await fetch(`${c.url}/control/scores`)).json()).scores).toHaveLength(1);
    expect(c.stats()).toMatchObject({ observationsStored: 3, tracesStored: 2, scoresStored: 1 });

    expect((await fetch(`${c.url}/control/reset`, { method: 'POST' })).status).toBe(204);
    expect(c.observations()).toEqual([]);
    expect(c.scores()).toEqual([]);
    expect(c.stats()).toMatchObject({ observationsStored: 0, tracesStored: 0, scoresStored: 0, spansReceived: 0 });
  });

  it('the SSE stats stream carries span, observation, duplicate and trace counts', async () => {
    const abort = new AbortController();
    const res = await fetch(`${c.url}/control/stream`, { signal: abort.signal });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const nextStats = async () => {
      for (let i = 0; i < 1000; i++) {
        const match = /event: stats\ndata: (.*)\n\n/.exec(text);
        if (match) {
          text = text.slice(match.index + match[0].length);
          return JSON.parse(match[1]!) as Record<string, number>;
        }
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
      throw new Error('no stats message');
    };
    expect(await nextStats()).toMatchObject({ observationsStored: 0, spanDuplicates: 0, scoresStored: 0 });
    const s = span();
    await send(exportOf([s, s]));
    let latest = await nextStats();
    for (let i = 0; i < 20 && latest.observationsStored !== 1; i++) latest = await nextStats();
    expect(latest).toMatchObject({ spansReceived: 2, observationsStored: 1, spanDuplicates: 1, tracesStored: 1 });
    abort.abort();
    await reader.cancel().catch(() => {});
  });

  it('publicKeys and secretKeys are checked on Basic', async () => {
    const keyed = await startCollector({ langfuse: 'v4', publicKeys: ['pk-good'], secretKeys: ['sk-good'] });
    try {
      const post = (pk: string, sk: string) =>
        fetch(keyed.otlpEndpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${pk}:${sk}`).toString('base64')}` },
          body: JSON.stringify(exportOf([span()])),
        }).then((r) => r.status);
      expect(await post('pk-bad', 'sk-good')).toBe(401);
      expect(await post('pk-good', 'sk-bad')).toBe(401);
      expect(await post('pk-good', 'sk-good')).toBe(200);
      expect(keyed.observations()).toHaveLength(1);
    } finally {
      await keyed.close();
    }
  });
});

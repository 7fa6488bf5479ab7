/**
 * /api/public/ingestion in the collector's `langfuse: 'v4'` mode, answering as Langfuse v4 (`events_only`) does:
 * only score-create and sdk-log pass, Bearer may send scores only, score rules, Authorization header only —
 * unless `acceptBeacons` makes it accept beacons as a relay would.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import zlib from 'node:zlib';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';

interface Ingested {
  successes: { id: string; status: number }[];
  errors: { id: string | null; status: number; message: string; error?: string }[];
}

let seq = 0;
const TRACE = 'a'.repeat(32);
function ev(type: string, body: unknown, id = `v4-${++seq}`) {
  return { id, type, timestamp: new Date().toISOString(), body };
}
const score = (body: Record<string, unknown> = {}, id?: string) => ev('score-create', { name: 'thumbs', value: 1, traceId: TRACE, ...body }, id);
const BASIC = `Basic ${Buffer.from('pk-lf-1:sk-lf-1').toString('base64')}`;

let c: Collector;
async function post(batch: unknown[], init: { headers?: Record<string, string>; query?: string; raw?: BodyInit; collector?: Collector } = {}) {
  const target = init.collector ?? c;
  const res = await fetch(`${target.endpoint}${init.query ?? ''}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: BASIC, ...init.headers },
    body: init.raw ?? JSON.stringify({ batch }),
  });
  return { status: res.status, json: (await res.json()) as Ingested & { message?: string } };
}

beforeAll(async () => {
  c = await startCollector({ langfuse: 'v4' });
});
afterAll(() => c.close());
beforeEach(() => c.reset());

describe('ingestion, v4 mode', () => {
  it('says which mode it runs in; the default stays v3', async () => {
    expect(c.langfuse).toBe('v4');
    const v3 = await startCollector();
    try {
      expect(v3.langfuse).toBe('v3');
      const res = await post([ev('trace-create', { name: 't' })], { collector: v3 });
      expect(res.json.successes).toHaveLength(1);
    } finally {
      await v3.close();
    }
    await expect(startCollector({ langfuse: 'v5' as never })).rejects.toThrow(/langfuse must be/);
  });

  it('refuses every event type but score-create and sdk-log with a per-event 400 "Event type not accepted"', async () => {
    const types = ['trace-create', 'span-create', 'span-update', 'generation-create', 'generation-update', 'event-create', 'observation-create'];
    const refused = types.map((t) => ev(t, { id: `b-${t}`, name: t }));
    const s = score();
    const log = ev('sdk-log', { log: 'hello' });
    const res = await post([...refused, s, log]);
    expect(res.status).toBe(207);
    expect(res.json.errors.map((e) => [e.id, e.status, e.message])).toEqual(refused.map((e) => [e.id, 400, 'Event type not accepted']));
    expect(res.json.errors[0]!.error).toMatch(/otel\/v1\/traces/);
    // sdk-log appears in neither list, as in Langfuse.
    expect(res.json.successes).toEqual([{ id: s.id, status: 201 }]);
    expect(c.events().map((e) => e.id)).toEqual([s.id, log.id]);
    expect(c.scores().map((x) => [x.id, x.name, x.value, x.traceId])).toEqual([[s.id, 'thumbs', 1, TRACE]]);
    expect(c.stats()).toMatchObject({ eventsReceived: 9, eventsStored: 2, refusedEvents: 7, invalidEvents: 0, scoresStored: 1 });
  });

  it('Bearer (a public key alone) may send scores only: other events get a per-event 401 "Access Scope Denied"', async () => {
    const s = score();
    const t = ev('trace-create', { name: 't' });
    const log = ev('sdk-log', { log: 'x' });
    const res = await post([s, t, log], { headers: { authorization: 'Bearer pk-lf-1' } });
    expect(res.status).toBe(207);
    expect(res.json.successes).toEqual([{ id: s.id, status: 201 }]);
    expect(res.json.errors.map((e) => [e.id, e.status, e.message])).toEqual([[t.id, 401, 'Access Scope Denied'], [log.id, 401, 'Access Scope Denied']]);
    expect(c.scores()).toHaveLength(1);
  });

  it('score rules, each refused per event with 400 naming the rule', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ name: '' }, /name must be a non-empty string/],
      [{ traceId: undefined }, /exactly one of traceId, sessionId, datasetRunId \(got none\)/],
      [{ sessionId: 's-1' }, /exactly one of .* \(got traceId, sessionId\)/],
      [{ traceId: undefined, sessionId: 's-1', observationId: 'o-1' }, /observationId needs traceId/],
      [{ dataType: 'BOOLEAN', value: 2 }, /BOOLEAN score value must be 0 or 1/],
      [{ dataType: 'TEXT', value: '' }, /TEXT score value must be a string of 1–500/],
      [{ dataType: 'TEXT', value: 'x'.repeat(501) }, /TEXT score value/],
      [{ dataType: 'NUMERIC', value: 'high' }, /NUMERIC score value must be a finite number/],
      [{ dataType: 'CATEGORICAL', value: 3 }, /CATEGORICAL score value must be a string/],
      [{ value: { no: 'object' } }, /value must be a number or a string/],
      [{ dataType: 'STARS' }, /dataType must be one of/],
    ];
    const bad = cases.map(([body]) => score(body));
    const good = [
      score({ dataType: 'BOOLEAN', value: 0 }),
      score({ dataType: 'TEXT', value: 'x'.repeat(500) }),
      score({ dataType: 'CATEGORICAL', value: 'good' }),
      score({ value: 'free text' }),
      score({ traceId: undefined, sessionId: 's-1', value: 0.5 }),
      score({ traceId: undefined, datasetRunId: 'run-1', value: 0.5 }),
      score({ observationId: 'o-1', value: 0.5 }),
    ];
    const res = await post([...bad, ...good]);
    expect(res.status).toBe(207);
    expect(res.json.errors.map((e) => [e.id, e.status])).toEqual(bad.map((e) => [e.id, 400]));
    cases.forEach(([, pattern], i) => expect(res.json.errors[i]!.message).toMatch(pattern));
    expect(res.json.successes.map((s) => s.id)).toEqual(good.map((e) => e.id));
    expect(c.scores().map((s) => s.eventId)).toEqual(good.map((e) => e.id));
    expect(c.scores({ traceId: TRACE }).map((s) => s.observationId)).toEqual([null, null, null, null, 'o-1']);
  });

  it('a score keeps its body id, and a later score with the same id replaces it; a resent event is stored once', async () => {
    const first = score({ id: 'score-1', value: 0.1 });
    await post([first]);
    await post([first]);
    await post([score({ id: 'score-1', value: 0.9 })]);
    expect(c.scores().map((s) => [s.id, s.value])).toEqual([['score-1', 0.9]]);
    expect(c.stats()).toMatchObject({ eventsStored: 2, duplicates: 1, scoresStored: 1 });
  });

  it('only the Authorization header authenticates: ?pk= and text/plain beacons get 401, text/plain with a key 400, gzip 400', async () => {
    const body = JSON.stringify({ batch: [score()] });
    const beacon = await post([], { headers: { authorization: '', 'content-type': 'text/plain;charset=UTF-8' }, query: '?pk=pk-lf-1', raw: body });
    expect(beacon.status).toBe(401);
    expect(beacon.json.message).toMatch(/Authorization header/);
    expect((await post([], { headers: { authorization: '' }, query: '?pk=pk-lf-1', raw: body })).status).toBe(401);
    const plainWithKey = await post([], { headers: { 'content-type': 'text/plain' }, raw: body });
    expect(plainWithKey.status).toBe(400);
    expect(plainWithKey.json.message).toMatch(/invalid envelope/);
    const gzip = await post([], { headers: { 'content-encoding': 'gzip' }, raw: zlib.gzipSync(body) });
    expect(gzip.status).toBe(400);
    expect(gzip.json.message).toMatch(/Invalid JSON/);
    expect(c.scores()).toHaveLength(0);
    expect((await post([score()])).status).toBe(207);
  });

  it('acceptBeacons: text/plain with ?pk= and gzip are accepted as a relay would; the v4 rules still apply', async () => {
    const relay = await startCollector({ langfuse: 'v4', acceptBeacons: true, publicKeys: ['pk-lf-1'] });
    try {
      const s = score();
      const t = ev('trace-create', { name: 't' });
      const res = await post([], {
        collector: relay,
        headers: { authorization: '', 'content-type': 'text/plain;charset=UTF-8' },
        query: '?pk=pk-lf-1',
        raw: JSON.stringify({ batch: [s, t] }),
      });
      expect(res.status).toBe(207);
      expect(res.json.successes).toEqual([{ id: s.id, status: 201 }]);
      expect(res.json.errors.map((e) => [e.id, e.status])).toEqual([[t.id, 401]]);
      expect(relay.requests()[0]).toMatchObject({ auth: 'query', path: 'ingestion' });
      const gz = await post([], { collector: relay, headers: { 'content-encoding': 'gzip' }, raw: zlib.gzipSync(JSON.stringify({ batch: [score()] })) });
      expect(gz.status).toBe(207);
      expect((await post([], { collector: relay, headers: { authorization: '' }, query: '?pk=pk-other', raw: JSON.stringify({ batch: [score()] }) })).status).toBe(401);
      expect(relay.scores()).toHaveLength(2);
    } finally {
      await relay.close();
    }
  });

  it('secretKeys are checked on Basic', async () => {
    const keyed = await startCollector({ langfuse: 'v4', secretKeys: ['sk-good'] });
    try {
      const basic = (sk: string) => `Basic ${Buffer.from(`pk:${sk}`).toString('base64')}`;
      expect((await post([score()], { collector: keyed, headers: { authorization: basic('sk-bad') } })).status).toBe(401);
      expect((await post([score()], { collector: keyed, headers: { authorization: basic('sk-good') } })).status).toBe(207);
    } finally {
      await keyed.close();
    }
  });

  it('faults apply to /ingestion in v4 mode too, and fail-ids works per event', async () => {
    c.setFault({ mode: 'status', status: 429, retryAfter: '2', times: 1, path: 'ingestion' });
    expect((await post([score()])).status).toBe(429);
    const a = score();
    const b = score();
    c.setFault({ mode: 'fail-ids', ids: { [a.id]: 500 } });
    const res = await post([a, b]);
    expect(res.json.errors.map((e) => [e.id, e.status])).toEqual([[a.id, 500]]);
    expect(c.scores().map((s) => s.eventId)).toEqual([b.id]);
  });
});

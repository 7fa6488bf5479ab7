import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';

interface Ingested {
  successes: { id: string; status: number }[];
  errors: { id: string | null; status: number; message: string }[];
}

let seq = 0;
/** A valid Langfuse-style event with a unique id (unless given). */
function ev(id = `evt-${++seq}`, body: unknown = { name: id }) {
  return { id, type: 'trace-create', timestamp: new Date().toISOString(), body };
}
function envelope(batch: unknown[], batchId = `batch-${++seq}`) {
  return { batch, metadata: { batch_id: batchId, sdk_name: 'outbox', sdk_version: '0.0.0', batch_size: batch.length } };
}

describe('collector', () => {
  let c: Collector;

  async function post(body: unknown, init: { headers?: Record<string, string>; query?: string; raw?: BodyInit } = {}) {
    return fetch(`${c.endpoint}${init.query ?? ''}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...init.headers },
      body: init.raw ?? JSON.stringify(body),
    });
  }

  beforeAll(async () => {
    c = await startCollector({ port: 0 });
  });
  afterAll(async () => {
    await c.close();
  });
  beforeEach(() => {
    c.reset();
  });

  it('exposes url, port and endpoint', () => {
    expect(c.port).toBeGreaterThan(0);
    expect(c.url).toBe(`http://127.0.0.1:${c.port}`);
    expect(c.endpoint).toBe(`${c.url}/api/public/ingestion`);
  });

  it('stores a valid batch and answers 207 with per-event successes', async () => {
    const events = [ev(), ev(), ev()];
    const res = await post(envelope(events, 'b-1'));
    expect(res.status).toBe(207);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const json = (await res.json()) as Ingested;
    expect(json).toEqual({ successes: events.map((e) => ({ id: e.id, status: 201 })), errors: [] });

    const stored = c.events();
    expect(stored.map((e) => e.id)).toEqual(events.map((e) => e.id));
    const [first] = events as [ReturnType<typeof ev>, ...unknown[]];
    expect(stored[0]).toMatchObject({ type: 'trace-create', timestamp: first.timestamp, body: { name: first.id }, batchId: 'b-1' });
    expect(stored.map((e) => e.seq)).toEqual([...stored.map((e) => e.seq)].sort((a, b) => a - b));
    expect(typeof stored[0]?.receivedAt).toBe('number');

    const stats = c.stats();
    expect(stats).toMatchObject({ requests: 1, byStatus: { '207': 1 }, eventsReceived: 3, eventsStored: 3, duplicates: 0, invalidEvents: 0 });
    expect(stats.bytesReceived).toBeGreaterThan(0);
    const log = c.requests()[0]!;
    expect(log).toMatchObject({ status: 207, count: 3, ids: events.map((e) => e.id), auth: 'none', contentEncoding: null });
    expect(log.contentType).toMatch(/application\/json/);
    expect(log.url).toBe('/api/public/ingestion');
  });

  it('accepts the endpoint with a trailing slash', async () => {
    const res = await fetch(`${c.endpoint}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope([ev()])) });
    expect(res.status).toBe(207);
    expect(c.events()).toHaveLength(1);
  });

  it('deduplicates ids across and within batches, reporting them as successes', async () => {
    const a = ev('dup-a');
    const b = ev('dup-b');
    expect((await post(envelope([a, b]))).status).toBe(207);
    const res = await post(envelope([a, ev('dup-c'), ev('dup-c'), b]));
    expect(res.status).toBe(207);
    const json = (await res.json()) as Ingested;
    expect(json.successes.map((s) => s.id)).toEqual(['dup-a', 'dup-c', 'dup-c', 'dup-b']);
    expect(json.successes.every((s) => s.status === 201)).toBe(true);
    expect(json.errors).toEqual([]);
    expect(c.events().map((e) => e.id)).toEqual(['dup-a', 'dup-b', 'dup-c']);
    expect(c.stats()).toMatchObject({ eventsReceived: 6, eventsStored: 3, duplicates: 3 });
  });

  it('reports an invalid event in errors and stores the valid ones', async () => {
    const good1 = ev();
    const good2 = ev();
    const batch = [
      good1,
      { id: 'bad-ts', type: 'trace-create', timestamp: 'yesterday', body: {} },
      { type: 'trace-create', timestamp: new Date().toISOString(), body: {} },
      { id: 'x'.repeat(201), type: 't', timestamp: new Date().toISOString(), body: {} },
      { id: 'no-body', type: 't', timestamp: new Date().toISOString() },
      good2,
    ];
    const res = await post(envelope(batch));
    expect(res.status).toBe(207);
    const json = (await res.json()) as Ingested;
    expect(json.successes).toEqual([{ id: good1.id, status: 201 }, { id: good2.id, status: 201 }]);
    expect(json.errors.map((e) => [e.id, e.status])).toEqual([
      ['bad-ts', 400],
      [null, 400],
      ['x'.repeat(201), 400],
      ['no-body', 400],
    ]);
    expect(json.errors[0]?.message).toMatch(/timestamp/);
    expect(json.errors[1]?.message).toMatch(/id/);
    expect(json.errors[3]?.message).toMatch(/body/);
    expect(c.events().map((e) => e.id)).toEqual([good1.id, good2.id]);
    expect(c.stats()).toMatchObject({ eventsReceived: 6, eventsStored: 2, invalidEvents: 4 });
  });

  it('accepts a gzip body', async () => {
    const events = [ev(), ev()];
    const res = await post(null, { headers: { 'content-encoding': 'gzip' }, raw: zlib.gzipSync(JSON.stringify(envelope(events))) });
    expect(res.status).toBe(207);
    expect(c.events().map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(c.requests()[0]).toMatchObject({ status: 207, contentEncoding: 'gzip', count: 2 });
  });

  it('refuses a gzip bomb with 413 and keeps serving', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(50 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const res = await post(null, { headers: { 'content-encoding': 'gzip' }, raw: bomb });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { message: string }).message).toMatch(/exceeds/);
    const next = await post(envelope([ev()]));
    expect(next.status).toBe(207);
    expect(c.stats().byStatus).toEqual({ '413': 1, '207': 1 });
  });

  it('answers 400 to corrupt gzip and 415 to an unknown content-encoding', async () => {
    const corrupt = await post(null, { headers: { 'content-encoding': 'gzip' }, raw: 'not gzip at all' });
    expect(corrupt.status).toBe(400);
    const unknown = await post(envelope([ev()]), { headers: { 'content-encoding': 'zstd-ish' } });
    expect(unknown.status).toBe(415);
    expect(c.events()).toHaveLength(0);
  });

  it('answers 400 to invalid JSON', async () => {
    const res = await post(null, { raw: '{"batch": [' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/invalid JSON/);
    expect(c.requests()[0]).toMatchObject({ status: 400, count: 0 });
  });

  it('answers 400 to a wrong envelope, naming the path', async () => {
    const noBatch = await post({ events: [] });
    expect(noBatch.status).toBe(400);
    expect(((await noBatch.json()) as { message: string }).message).toMatch(/batch/);
    const notObjects = await post({ batch: [ev(), 42] });
    expect(notObjects.status).toBe(400);
    expect(((await notObjects.json()) as { message: string }).message).toMatch(/batch\.1/);
    const badMeta = await post({ batch: [], metadata: 'x' });
    expect(badMeta.status).toBe(400);
    expect(((await badMeta.json()) as { message: string }).message).toMatch(/metadata/);
    const tooMany = await post({ batch: Array.from({ length: 10_001 }, () => ({})) });
    expect(tooMany.status).toBe(400);
    expect(c.events()).toHaveLength(0);
  });

  it('accepts a text/plain beacon body with the key in ?pk=', async () => {
    const res = await post(null, {
      query: '?pk=pk-lf-beacon',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      raw: JSON.stringify(envelope([ev('beacon-1')])),
    });
    expect(res.status).toBe(207);
    expect(c.events().map((e) => e.id)).toEqual(['beacon-1']);
    expect(c.requests()[0]).toMatchObject({ auth: 'query', contentType: 'text/plain;charset=UTF-8', url: '/api/public/ingestion?pk=pk-lf-beacon' });
  });

  it('answers 415 to an unsupported content-type', async () => {
    const res = await post(envelope([ev()]), { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(415);
  });

  it('recognises Bearer and Basic authorization', async () => {
    expect((await post(envelope([ev()]), { headers: { authorization: 'Bearer pk-lf-1' } })).status).toBe(207);
    const basic = `Basic ${Buffer.from('pk-lf-1:sk-lf-1').toString('base64')}`;
    expect((await post(envelope([ev()]), { headers: { authorization: basic } })).status).toBe(207);
    expect(c.requests().map((r) => r.auth)).toEqual(['bearer', 'basic']);
  });

  it('answers other methods on the ingestion route with 405 and unknown paths with 404', async () => {
    expect((await fetch(c.endpoint)).status).toBe(405);
    expect((await fetch(`${c.url}/nope`)).status).toBe(404);
    const health = await fetch(`${c.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok');
    expect(c.stats().requests).toBe(0);
  });

  it('answers a CORS preflight with 204 and the echoed origin', async () => {
    const res = await fetch(c.endpoint, {
      method: 'OPTIONS',
      headers: { origin: 'http://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://app.example');
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('vary')).toMatch(/Origin/);
    expect(res.headers.get('access-control-allow-methods')).toBe('POST, GET, OPTIONS');
    expect(res.headers.get('access-control-allow-headers')).toMatch(/content-type, authorization, content-encoding/);
    expect(res.headers.get('access-control-expose-headers')).toBe('retry-after');

    const posted = await post(envelope([ev()]), { headers: { origin: 'http://app.example' } });
    expect(posted.headers.get('access-control-allow-origin')).toBe('http://app.example');
    const control = await fetch(`${c.url}/control/stats`, { headers: { origin: 'http://app.example' } });
    expect(control.headers.get('access-control-allow-origin')).toBe('http://app.example');
    const noOrigin = await post(envelope([ev()]));
    expect(noOrigin.headers.get('access-control-allow-origin')).toBeNull();
  });

  describe('faults', () => {
    it('down: destroys the socket without answering', async () => {
      c.setFault({ mode: 'down', times: 1 });
      await expect(post(envelope([ev()]))).rejects.toThrow();
      expect(c.events()).toHaveLength(0);
      expect(c.fault()).toEqual({ mode: 'none' });
      expect((await post(envelope([ev()]))).status).toBe(207);
      expect(c.requests().map((r) => r.status)).toEqual([0, 207]);
    });

    it('status 500 twice, then 207', async () => {
      c.setFault({ mode: 'status', status: 500, times: 2 });
      const e = ev();
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await post(envelope([e]))).status);
      expect(statuses).toEqual([500, 500, 207]);
      expect(c.events().map((x) => x.id)).toEqual([e.id]);
      expect(c.stats().byStatus).toEqual({ '500': 2, '207': 1 });
      expect(c.requests()[0]).toMatchObject({ status: 500, count: 1, ids: [e.id] });
    });

    it('status 429 with a Retry-After header', async () => {
      c.setFault({ mode: 'status', status: 429, retryAfter: '7' });
      const res = await post(envelope([ev()]), { headers: { origin: 'http://app.example' } });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('7');
      expect(res.headers.get('access-control-expose-headers')).toBe('retry-after');
      expect((await post(envelope([ev()]))).status).toBe(429);
      expect(c.events()).toHaveLength(0);
    });

    it('slow: processes at once, answers after the delay', async () => {
      c.setFault({ mode: 'slow', delayMs: 400, times: 1 });
      const started = Date.now();
      const pending = post(envelope([ev('slow-1')]));
      await c.waitFor((x) => x.stats().eventsStored === 1);
      const res = await pending;
      expect(res.status).toBe(207);
      expect(Date.now() - started).toBeGreaterThanOrEqual(350);
      expect(c.events().map((e) => e.id)).toEqual(['slow-1']);
    });

    it('fail-ids: answers those ids with their status and stores the others', async () => {
      c.setFault({ mode: 'fail-ids', ids: { 'f-1': 500, 'f-3': 400 } });
      const res = await post(envelope([ev('f-1'), ev('f-2'), ev('f-3'), ev('f-4')]));
      expect(res.status).toBe(207);
      const json = (await res.json()) as Ingested;
      expect(json.successes).toEqual([{ id: 'f-2', status: 201 }, { id: 'f-4', status: 201 }]);
      expect(json.errors.map((e) => [e.id, e.status])).toEqual([['f-1', 500], ['f-3', 400]]);
      expect(c.events().map((e) => e.id)).toEqual(['f-2', 'f-4']);
    });

    it('never applies to control routes, and is set over the control API', async () => {
      const set = await fetch(`${c.url}/control/fault`, { method: 'POST', body: JSON.stringify({ mode: 'status', status: 503, times: 1 }) });
      expect(set.status).toBe(204);
      expect((await fetch(`${c.url}/control/stats`)).status).toBe(200);
      expect(await (await fetch(`${c.url}/control/fault`)).json()).toEqual({ mode: 'status', status: 503, times: 1 });
      expect((await post(envelope([ev()]))).status).toBe(503);
      expect((await post(envelope([ev()]))).status).toBe(207);
    });

    it('refuses an invalid fault', async () => {
      const res = await fetch(`${c.url}/control/fault`, { method: 'POST', body: JSON.stringify({ mode: 'status', code: 500 }) });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(/status/);
      expect((await fetch(`${c.url}/control/fault`, { method: 'POST', body: '{' })).status).toBe(400);
      expect(() => c.setFault({ mode: 'explode' } as never)).toThrow(TypeError);
      expect(c.fault()).toEqual({ mode: 'none' });
    });
  });

  describe('control API', () => {
    it('serves stats, events with after/limit, requests and reset', async () => {
      await post(envelope([ev('c-1'), ev('c-2'), ev('c-3')]));
      expect(await (await fetch(`${c.url}/control/stats`)).json()).toEqual(c.stats());
      const all = (await (await fetch(`${c.url}/control/events`)).json()) as { events: { id: string; seq: number }[] };
      expect(all.events.map((e) => e.id)).toEqual(['c-1', 'c-2', 'c-3']);
      const page = (await (await fetch(`${c.url}/control/events?after=${all.events[0]!.seq}&limit=1`)).json()) as { events: { id: string }[] };
      expect(page.events.map((e) => e.id)).toEqual(['c-2']);
      expect((await fetch(`${c.url}/control/events?limit=-1`)).status).toBe(400);
      const reqs = (await (await fetch(`${c.url}/control/requests`)).json()) as { requests: { status: number }[] };
      expect(reqs.requests.map((r) => r.status)).toEqual([207]);
      expect((await fetch(`${c.url}/control/reset`, { method: 'POST' })).status).toBe(204);
      expect(c.events()).toEqual([]);
      expect(c.requests()).toEqual([]);
      expect(c.stats()).toMatchObject({ requests: 0, eventsStored: 0, byStatus: {} });
    });

    it('streams stats as Server-Sent Events', async () => {
      const abort = new AbortController();
      const res = await fetch(`${c.url}/control/stream`, { signal: abort.signal });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      const nextStats = async () => {
        for (;;) {
          const match = /event: stats\ndata: (.*)\n\n/.exec(text);
          if (match) {
            text = text.slice(match.index + match[0].length);
            return JSON.parse(match[1]!) as { eventsStored: number };
          }
          const { value, done } = await reader.read();
          if (done) throw new Error('stream ended');
          text += value;
        }
      };
      expect((await nextStats()).eventsStored).toBe(0);
      await post(envelope([ev()]));
      let latest = await nextStats();
      while (latest.eventsStored !== 1) latest = await nextStats();
      expect(latest.eventsStored).toBe(1);
      abort.abort();
      await reader.cancel().catch(() => {});
    });

    it('waitFor resolves with the value and rejects with a clear message on timeout', async () => {
      await post(envelope([ev('w-1')]));
      await expect(c.waitFor((x) => x.events()[0]?.id)).resolves.toBe('w-1');
      await expect(c.waitFor(() => false, 100)).rejects.toThrow(/waitFor: condition not met within 100 ms/);
    });
  });

  describe('with limits and keys', () => {
    let small: Collector;
    beforeAll(async () => {
      small = await startCollector({ maxBodyBytes: 1024, publicKeys: ['pk-good'], allowedOrigins: ['http://allowed.example'] });
    });
    afterAll(async () => {
      await small.close();
    });
    beforeEach(() => {
      small.reset();
    });
    const send = (body: BodyInit, headers: Record<string, string> = {}, query = '') =>
      fetch(`${small.endpoint}${query}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer pk-good', ...headers }, body });

    it('answers 413 to a raw body over maxBodyBytes and keeps serving', async () => {
      const big = JSON.stringify(envelope([ev('big', { pad: 'x'.repeat(4096) })]));
      const res = await send(big);
      expect(res.status).toBe(413);
      const huge = await send('x'.repeat(2 * 1024 * 1024));
      expect(huge.status).toBe(413);
      expect((await send(JSON.stringify(envelope([ev('small')])))).status).toBe(207);
      expect(small.events().map((e) => e.id)).toEqual(['small']);
      expect(small.stats().byStatus).toEqual({ '413': 2, '207': 1 });
    });

    it('answers 401 to a missing or unknown key and accepts a listed one', async () => {
      const body = JSON.stringify(envelope([ev()]));
      expect((await send(body, { authorization: 'Bearer pk-wrong' })).status).toBe(401);
      expect((await send(body, { authorization: '' })).status).toBe(401);
      expect((await send(body, { authorization: '' }, '?pk=pk-wrong')).status).toBe(401);
      expect((await send(body, { authorization: '' }, '?pk=pk-good')).status).toBe(207);
      const basic = `Basic ${Buffer.from('pk-good:sk-any').toString('base64')}`;
      expect((await send(JSON.stringify(envelope([ev()])), { authorization: basic })).status).toBe(207);
      expect(small.events()).toHaveLength(2);
    });

    it('echoes only allowed origins', async () => {
      const ok = await fetch(small.endpoint, { method: 'OPTIONS', headers: { origin: 'http://allowed.example' } });
      expect(ok.status).toBe(204);
      expect(ok.headers.get('access-control-allow-origin')).toBe('http://allowed.example');
      const other = await fetch(small.endpoint, { method: 'OPTIONS', headers: { origin: 'http://evil.example' } });
      expect(other.status).toBe(204);
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  it('keeps events in a file database across close and restart', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outbox-collector-'));
    try {
      const dbPath = path.join(dir, 'events.sqlite');
      const first = await startCollector({ dbPath });
      await fetch(first.endpoint, { method: 'POST', body: JSON.stringify(envelope([ev('p-1'), ev('p-2')])) });
      await first.close();
      await first.close(); // idempotent

      const second = await startCollector({ dbPath });
      try {
        expect(second.events().map((e) => e.id)).toEqual(['p-1', 'p-2']);
        expect(second.stats().eventsStored).toBe(2);
        const res = await fetch(second.endpoint, { method: 'POST', body: JSON.stringify(envelope([ev('p-2'), ev('p-3')])) });
        expect(res.status).toBe(207);
        expect(second.events().map((e) => e.id)).toEqual(['p-1', 'p-2', 'p-3']);
        expect(second.stats().duplicates).toBe(1);
      } finally {
        await second.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves static files with content types and no-store', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outbox-static-'));
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>demo</title>');
    fs.writeFileSync(path.join(dir, 'app.mjs'), 'export {};');
    fs.writeFileSync(path.join(dir, 'sub', 'style.css'), 'body{}');
    fs.writeFileSync(path.join(dir, 'data.json'), '{}');
    const s = await startCollector({ staticDirs: [{ prefix: '/demo/', dir }] });
    try {
      const page = await fetch(`${s.url}/demo/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(await page.text()).toContain('<title>demo</title>');
      expect((await fetch(`${s.url}/demo/app.mjs`)).headers.get('content-type')).toMatch(/^text\/javascript/);
      expect((await fetch(`${s.url}/demo/sub/style.css`)).headers.get('content-type')).toMatch(/^text\/css/);
      expect((await fetch(`${s.url}/demo/data.json`)).headers.get('content-type')).toMatch(/^application\/json/);
      expect((await fetch(`${s.url}/demo/missing.js`)).status).toBe(404);
      expect((await fetch(`${s.url}/demo/..%2f..%2f..%2fetc%2fpasswd`)).status).toBe(404);
      expect((await fetch(`${s.url}/demo/app.mjs`, { method: 'POST' })).status).toBe(404);
    } finally {
      await s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

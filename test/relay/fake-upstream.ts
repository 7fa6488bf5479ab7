// A small stand-in for Langfuse v4 on 127.0.0.1, with the answers the relay must cope with (LANGFUSE.md):
//   POST /api/public/otel/v1/traces  Basic pk:sk only (none → 401, Bearer → 403); gzip undone; JSON content type
//                                    (else 400); one span without traceId/spanId → whole-batch 400, nothing stored.
//   POST /api/public/ingestion       Basic pk:sk; no gzip (400 "Invalid JSON"); 207, score-create only.
// Modes: 'ok', 'down' (the socket is destroyed), '500', '429' (with Retry-After), '413', 'hold' (answered as 'ok'
// once release() is called; the request is recorded on arrival).
// It records every request (path, headers) and every stored record, so tests can count copies per id.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export type UpstreamMode = 'ok' | 'down' | '500' | '429' | '413' | 'hold';

export interface FakeUpstream {
  url: string;
  /** Every request that reached a route, in order. */
  requests: { path: string; headers: http.IncomingHttpHeaders; bytes: number }[];
  /** Stored span keys (traceId:spanId) and event ids, one entry per stored copy. */
  spans: string[];
  events: string[];
  mode: UpstreamMode;
  retryAfter: string | undefined;
  /** How many copies of each key were stored. */
  copies(): Map<string, number>;
  /** Ends 'hold': mode 'ok', and the held requests are answered. */
  release(): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeUpstream(keys = { publicKey: 'pk-lf-test', secretKey: 'sk-lf-test' }): Promise<FakeUpstream> {
  const expected = 'Basic ' + Buffer.from(`${keys.publicKey}:${keys.secretKey}`).toString('base64');
  const sockets = new Set<import('node:net').Socket>();
  const held: (() => void)[] = [];
  const state: FakeUpstream = {
    url: '',
    requests: [],
    spans: [],
    events: [],
    mode: 'ok',
    retryAfter: undefined,
    copies() {
      const m = new Map<string, number>();
      for (const k of [...state.spans, ...state.events]) m.set(k, (m.get(k) ?? 0) + 1);
      return m;
    },
    release() {
      state.mode = 'ok';
      for (const go of held.splice(0)) go();
    },
    reset() {
      state.release();
      state.requests.length = 0;
      state.spans.length = 0;
      state.events.length = 0;
      state.mode = 'ok';
      state.retryAfter = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const reply = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      const raw = Buffer.concat(chunks);
      state.requests.push({ path, headers: req.headers, bytes: raw.length });
      if (state.mode === 'hold') return void held.push(() => answer(path, raw, req, res));
      answer(path, raw, req, res);
    });
  });
  function answer(path: string, raw: Buffer, req: http.IncomingMessage, res: http.ServerResponse) {
    if (state.mode === 'down') return void req.socket.destroy();
    if (state.mode === '500') return reply(res, 500, { message: 'Internal Server Error' });
    if (state.mode === '413') return reply(res, 413, { message: 'Body exceeded 4.5mb limit' });
    if (state.mode === '429') {
      return reply(res, 429, { code: 'rate_limited', details: { retryAfterSeconds: Number(state.retryAfter ?? 0) } }, state.retryAfter ? { 'Retry-After': state.retryAfter } : {});
    }
    const auth = req.headers.authorization ?? '';
    if (path === '/api/public/otel/v1/traces') {
      if (auth === '') return reply(res, 401, { message: 'No authorization header' });
      if (auth.startsWith('Bearer ')) return reply(res, 403, { message: 'insufficient permissions for this endpoint' });
      if (auth !== expected) return reply(res, 401, { message: 'Invalid credentials' });
      let text: string;
      try {
        text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      } catch {
        return reply(res, 400, { error: 'Invalid gzip' });
      }
      if (!String(req.headers['content-type'] ?? '').includes('application/json')) return reply(res, 400, { error: 'Invalid content type' });
      let body: any;
      try {
        body = JSON.parse(text);
      } catch {
        return reply(res, 400, { error: 'Invalid JSON' });
      }
      const found: string[] = [];
      for (const rs of body?.resourceSpans ?? []) {
        for (const ss of rs?.scopeSpans ?? []) {
          for (const s of ss?.spans ?? []) {
            if (typeof s?.traceId !== 'string' || typeof s?.spanId !== 'string') return reply(res, 400, { error: 'span without traceId/spanId' });
            found.push(`${s.traceId}:${s.spanId}`);
          }
        }
      }
      state.spans.push(...found);
      return reply(res, 200, {});
    }
    if (path === '/api/public/ingestion') {
      if (auth !== expected) return reply(res, 401, { message: 'Invalid credentials' });
      if (req.headers['content-encoding'] === 'gzip') return reply(res, 400, { message: 'Invalid JSON' });
      let body: any;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return reply(res, 400, { message: 'Invalid JSON' });
      }
      if (!Array.isArray(body?.batch)) return reply(res, 400, { message: 'Invalid request data' });
      const successes: unknown[] = [];
      const errors: unknown[] = [];
      for (const e of body.batch) {
        if (e?.type === 'score-create') {
          state.events.push(e.id);
          successes.push({ id: e.id, status: 201 });
        } else errors.push({ id: e?.id, status: 400, message: 'Event type not accepted' });
      }
      return reply(res, 207, { successes, errors });
    }
    reply(res, 404, { message: 'not found' });
  }
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

// Builders for what pages send, and a relay under node:http on 127.0.0.1.
import http from 'node:http';
import { expect } from 'vitest';
import type { AddressInfo } from 'node:net';
import { createRelay, toNodeListener, type Relay, type RelayOptions } from '../../src/relay';

export const PK = 'pk-lf-test';
export const SK = 'sk-lf-test';
export const ORIGIN = 'http://app.test';
export const OTLP = '/api/public/otel/v1/traces';
export const INGESTION = '/api/public/ingestion';

const hex = (n: number, seed: number) => {
  let out = '';
  let x = seed * 2654435761 + 1;
  while (out.length < n) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    out += x.toString(16).padStart(8, '0');
  }
  return out.slice(0, n).replace(/^0/, 'a');
};
export const traceIdOf = (seed: number) => hex(32, seed);
export const spanIdOf = (seed: number) => hex(16, seed + 7);

/** One span as Outbox sends it (hex ids, nanosecond strings, langfuse.* attributes). */
export function span(seed: number, extra: Record<string, unknown> = {}) {
  return {
    traceId: traceIdOf(Math.floor(seed / 10)),
    spanId: spanIdOf(seed),
    name: `op-${seed}`,
    kind: 1,
    startTimeUnixNano: '1764600000000000000',
    endTimeUnixNano: '1764600000500000000',
    attributes: [
      { key: 'langfuse.observation.type', value: { stringValue: 'generation' } },
      { key: 'langfuse.observation.usage_details', value: { stringValue: '{"input":12,"output":30}' } },
      { key: 'langfuse.trace.name', value: { stringValue: 'chat' } },
    ],
    status: { code: 0 },
    ...extra,
  };
}

export function otlpBody(spans: unknown[]) {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'page' } }] },
        scopeSpans: [{ scope: { name: 'outbox', version: '0.1.0' }, spans }],
      },
    ],
  };
}

export const spanKey = (s: { traceId: string; spanId: string }) => `${s.traceId}:${s.spanId}`;

export function score(id: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    type: 'score-create',
    timestamp: '2026-12-01T10:00:00.000Z',
    body: { id: `score-${id}`, name: 'thumbs', value: 1, traceId: traceIdOf(1), ...extra },
  };
}

export const ingestionBody = (events: unknown[]) => ({ batch: events, metadata: { sdk: 'outbox' } });

/** A CORS preflight from the allowed origin asking for `headers`: 204, that origin and those headers reflected. */
export async function expectPreflight(base: string, path: string, headers: string): Promise<Response> {
  const res = await fetch(base + path, { method: 'OPTIONS', headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': headers } });
  expect(res.status).toBe(204);
  expect(res.headers.get('Access-Control-Allow-Origin')).toBe(ORIGIN);
  expect(res.headers.get('Access-Control-Allow-Headers')).toBe(headers);
  return res;
}

/** POST as a page would with fetch: JSON, Bearer public key, the allowed Origin. */
export function post(base: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(base + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${PK}`, Origin: ORIGIN, ...headers },
    body: typeof body === 'string' || body instanceof Uint8Array ? (body as BodyInit) : JSON.stringify(body),
  });
}

/** A relay behind node:http on 127.0.0.1:0. */
export async function startRelayServer(options: RelayOptions): Promise<{ url: string; relay: Relay; close(): Promise<void> }> {
  const relay = createRelay(options);
  const server = http.createServer(toNodeListener(relay));
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    relay,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

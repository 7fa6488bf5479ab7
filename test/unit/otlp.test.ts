import { describe, expect, it } from 'vitest';
import { utf8Length } from '../../src/core/encode';
import type { SendResult } from '../../src/core/types';
import { attr, createOtlpWire, type OtlpSpan } from '../../src/wire/otlp';
import type { Answer } from '../../src/core/types';

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);

function answerOf(status: number, body = '', headers: Record<string, string> = {}): Answer {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { status, headers: { get: (name) => lower[name.toLowerCase()] ?? null }, text: async () => body };
}

const wire = createOtlpWire({
  url: 'https://lf.example/api/public/otel/v1/traces',
  headers: { Authorization: 'Basic abc', 'X-Custom': '1' },
  gzip: true,
  resource: { serviceName: 'shop', serviceVersion: '2.1.0', environment: 'staging', release: 'r42', sdkVersion: '0.1.0' },
});

const span: OtlpSpan = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  name: 'chat "turn" é',
  kind: 1,
  startTimeUnixNano: '1764590400000000000',
  endTimeUnixNano: '1764590400001000000',
  attributes: [attr('langfuse.observation.type', 'span')!],
};

describe('createOtlpWire: request', () => {
  it('names itself and sends the JSON content type, ingestion version 4 and the given headers', () => {
    expect(wire.name).toBe('otlp');
    expect(wire.url).toBe('https://lf.example/api/public/otel/v1/traces');
    expect(wire.gzip).toBe(true);
    expect(wire.headers).toEqual({
      'Content-Type': 'application/json',
      'x-langfuse-ingestion-version': '4',
      Authorization: 'Basic abc',
      'X-Custom': '1',
    });
  });

  it('encodes a record as its span JSON, nothing for no body', () => {
    expect(JSON.parse(wire.encodeRecord({ id: span.spanId, type: 'span', ts: 0, body: span, wire: 'otlp' })!)).toEqual(span);
    expect(wire.encodeRecord({ id: 'x', type: 'span', ts: 0 })).toBeUndefined();
  });

  it('builds an ExportTraceServiceRequest with one resource and scope around the lines', () => {
    const line = wire.encodeRecord({ id: span.spanId, type: 'span', ts: 0, body: span })!;
    const other = { ...span, spanId: '00f067aa0ba902b7', parentSpanId: span.spanId };
    const body = wire.encodeBatch('b1', [
      { id: span.spanId, type: 'span', ts: 0, line, wire: 'otlp' },
      { id: other.spanId, type: 'span', ts: 0, line: JSON.stringify(other), wire: 'otlp' },
    ]);
    expect(JSON.parse(body)).toEqual({
      resourceSpans: [
        {
          resource: {
            attributes: [
              { key: 'service.name', value: { stringValue: 'shop' } },
              { key: 'service.version', value: { stringValue: '2.1.0' } },
              { key: 'telemetry.sdk.name', value: { stringValue: 'outbox' } },
              { key: 'telemetry.sdk.language', value: { stringValue: 'webjs' } },
              { key: 'telemetry.sdk.version', value: { stringValue: '0.1.0' } },
              { key: 'deployment.environment', value: { stringValue: 'staging' } },
              { key: 'langfuse.environment', value: { stringValue: 'staging' } },
              { key: 'langfuse.release', value: { stringValue: 'r42' } },
            ],
          },
          scopeSpans: [{ scope: { name: 'langfuse-sdk-outbox', version: '0.1.0' }, spans: [span, other] }],
        },
      ],
    });
  });

  it('states the envelope size exactly and leaves out resource attributes that have no value', () => {
    const bare = createOtlpWire({ url: 'u', headers: {}, gzip: false, resource: { sdkVersion: '9' } });
    const empty = bare.encodeBatch('b', []);
    expect(bare.envelopeBytes).toBe(utf8Length(empty));
    const attrs = JSON.parse(empty).resourceSpans[0].resource.attributes as { key: string; value: unknown }[];
    expect(attrs.map((a) => a.key)).toEqual(['service.name', 'telemetry.sdk.name', 'telemetry.sdk.language', 'telemetry.sdk.version']);
    expect(attrs[0]!.value).toEqual({ stringValue: 'outbox' });
    for (const a of attrs) expect(a.value).toBeDefined();
    expect(wire.envelopeBytes).toBe(utf8Length(wire.encodeBatch('b', [])));
  });
});

describe('attr', () => {
  it.each<[unknown, unknown]>([
    ['text', { stringValue: 'text' }],
    ['', { stringValue: '' }],
    [42, { intValue: '42' }],
    [-7, { intValue: '-7' }],
    [0, { intValue: '0' }],
    [1.5, { doubleValue: 1.5 }],
    [2 ** 60, { doubleValue: 2 ** 60 }],
    [true, { boolValue: true }],
    [false, { boolValue: false }],
    [['a', 'b'], { arrayValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }] } }],
    [['a', 1, null], { arrayValue: { values: [{ stringValue: 'a' }] } }],
  ])('%j → %j', (value, expected) => {
    expect(attr('k', value)).toEqual({ key: 'k', value: expected });
  });
  it.each([undefined, null, NaN, Infinity, -Infinity, { a: 1 }, () => 1, Symbol('s'), 10n])('%s → nothing', (value) => {
    expect(attr('k', value)).toBeUndefined();
  });
});

describe('createOtlpWire: answers', () => {
  const ids = ['a', 'b'];
  it.each<[string, Answer, SendResult]>([
    ['200 empty', answerOf(200), { kind: 'ok' }],
    ['200 {}', answerOf(200, '{}'), { kind: 'ok' }],
    ['200 partialSuccess 0', answerOf(200, '{"partialSuccess":{"rejectedSpans":0}}'), { kind: 'ok' }],
    ['200 not JSON', answerOf(200, 'ok'), { kind: 'ok' }],
    [
      '200 partialSuccess 3 (number)',
      answerOf(200, '{"partialSuccess":{"rejectedSpans":3,"errorMessage":"bad spans"}}'),
      { kind: 'ok', rejectedCount: 3, message: 'bad spans' },
    ],
    ['200 partialSuccess "2" (int64 string)', answerOf(200, '{"partialSuccess":{"rejectedSpans":"2"}}'), { kind: 'ok', rejectedCount: 2, message: undefined }],
    ['202 handed off', answerOf(202, '', { 'Outbox-Queued': '1' }), { kind: 'handed-off' }],
    ['413', answerOf(413, 'Body exceeded'), { kind: 'too-large' }],
    ['429 Retry-After header', answerOf(429, '{"code":"rate_limited","details":{"retryAfterSeconds":9}}', { 'Retry-After': '3' }),
      { kind: 'retry', network: false, status: 429, retryAfterMs: 3000, error: 'HTTP 429: {"code":"rate_limited","details":{"retryAfterSeconds":9}}' }],
    ['429 body only', answerOf(429, '{"code":"rate_limited","details":{"retryAfterSeconds":7}}'),
      { kind: 'retry', network: false, status: 429, retryAfterMs: 7000, error: 'HTTP 429: {"code":"rate_limited","details":{"retryAfterSeconds":7}}' }],
    ['429 nothing', answerOf(429, 'slow down'), { kind: 'retry', network: false, status: 429, retryAfterMs: undefined, error: 'HTTP 429: slow down' }],
    ['500', answerOf(500, '{"message":"Internal error"}'), { kind: 'retry', network: false, status: 500, retryAfterMs: undefined, error: 'HTTP 500: Internal error' }],
    ['502', answerOf(502), { kind: 'retry', network: false, status: 502, retryAfterMs: undefined, error: 'HTTP 502' }],
    ['503 Retry-After', answerOf(503, '', { 'Retry-After': '10' }), { kind: 'retry', network: false, status: 503, retryAfterMs: 10_000, error: 'HTTP 503' }],
    ['504', answerOf(504), { kind: 'retry', network: false, status: 504, retryAfterMs: undefined, error: 'HTTP 504' }],
    ['408', answerOf(408), { kind: 'retry', network: false, status: 408, retryAfterMs: undefined, error: 'HTTP 408' }],
    ['400 bisect', answerOf(400, '{"error":"Invalid request: spanId missing"}'), { kind: 'rejected', status: 400, error: 'HTTP 400: Invalid request: spanId missing', bisect: true }],
    ['401 empty', answerOf(401), { kind: 'rejected', status: 401, error: 'HTTP 401: the OTLP endpoint did not accept the credentials (it needs Basic publicKey:secretKey)' }],
    ['401 message', answerOf(401, '{"message":"Invalid credentials"}'), { kind: 'rejected', status: 401, error: 'HTTP 401: Invalid credentials' }],
    ['403 message', answerOf(403, '{"message":"insufficient permissions for this endpoint"}'), { kind: 'rejected', status: 403, error: 'HTTP 403: insufficient permissions for this endpoint' }],
    ['403 empty', answerOf(403), { kind: 'rejected', status: 403, error: 'HTTP 403: the OTLP endpoint refused this key (a public key alone may send scores only)' }],
    ['404', answerOf(404, 'Not Found'), { kind: 'rejected', status: 404, error: 'HTTP 404: Not Found' }],
    ['422', answerOf(422, '{"message":"nope"}'), { kind: 'rejected', status: 422, error: 'HTTP 422: nope' }],
  ])('%s', async (_name, response, expected) => {
    expect(await wire.answer(response, ids, NOW)).toEqual(expected);
  });

  it('never rejects, even when the answer object throws', async () => {
    const broken: Answer = {
      get status(): number {
        throw new Error('boom');
      },
      headers: { get: () => null },
      text: async () => '',
    };
    await expect(wire.answer(broken, ids, NOW)).resolves.toMatchObject({ kind: 'retry' });
    const unreadable: Answer = { status: 200, headers: { get: () => null }, text: () => Promise.reject(new Error('reset')) };
    await expect(wire.answer(unreadable, ids, NOW)).resolves.toEqual({ kind: 'ok' });
  });
});

import { describe, expect, it } from 'vitest';
import { encodeEvent, utf8Length } from '../../src/core/encode';
import { encodeBatch, encodeMetadata } from '../../src/wire/ingestion';
import { createUuid } from '../../src/core/uuid';

describe('utf8Length', () => {
  it.each(['', 'abc', 'é', '€uro', '😀', 'a😀b', '\ud800', 'x\udc00y', '日本語テキスト', 'mixed é😀€ \u0000'])('%j matches TextEncoder', (text) => {
    expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length);
  });
  // The ASCII prefix is skipped by a scan; counting starts at the first non-ASCII unit, wherever it is.
  it.each(['x'.repeat(1000) + 'é', 'ascii only, '.repeat(50), 'abc\u007f\u0080', 'abc\ud83d\ude00', 'abc\ud800', 'ab\udc00', '{"k":"v"}' + '日本'.repeat(3) + 'z'])(
    'an ASCII prefix then %#: matches TextEncoder',
    (text) => {
      expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length);
    },
  );
});

describe('encodeEvent / encodeBatch', () => {
  it('builds the Langfuse ingestion envelope', () => {
    const line = encodeEvent({ id: 'a"1', type: 'span-create', ts: Date.UTC(2026, 0, 2, 3, 4, 5, 6), body: { name: 'x', n: 1 } })!;
    const body = encodeBatch('b-1', [{ id: 'a"1', type: 'span-create', ts: 0, line }], encodeMetadata({ env: 'test', batch_id: 'spoof' }));
    expect(JSON.parse(body)).toEqual({
      batch: [{ id: 'a"1', type: 'span-create', timestamp: '2026-01-02T03:04:05.006Z', body: { name: 'x', n: 1 } }],
      metadata: { env: 'test', batch_id: 'b-1', sdk_name: 'outbox', sdk_version: '0.1.0', batch_size: 1 },
    });
  });
  it('defaults a missing body to {} and refuses what JSON cannot carry', () => {
    expect(JSON.parse(encodeEvent({ id: '1', type: 't', ts: 0 })!).body).toEqual({});
    expect(encodeEvent({ id: '1', type: 't', ts: 0, body: () => 1 })).toBeUndefined();
    const circular: any = {};
    circular.self = circular;
    expect(() => encodeEvent({ id: '1', type: 't', ts: 0, body: circular })).toThrow();
    expect(() => encodeEvent({ id: '1', type: 't', ts: 0, body: { n: 1n } })).toThrow();
  });
});

describe('createUuid', () => {
  it('makes distinct RFC 4122 v4 ids across pool refills', () => {
    const uuid = createUuid();
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = uuid();
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(2000);
  });
});

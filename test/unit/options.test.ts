import { describe, expect, it } from 'vitest';
import { DEFAULTS, OutboxOptionsError, optionsFromEnv, resolveOptions } from '../../src/core/options';

const endpoint = 'http://127.0.0.1:1/api/public/ingestion';

describe('resolveOptions', () => {
  it('applies the documented defaults', () => {
    const o = resolveOptions({ endpoint }, undefined);
    expect(o).toMatchObject({ ...DEFAULTS, endpoint, headers: {}, metadata: {}, debug: false });
  });

  it.each([
    [{ flushAt: 'abc' }, 'flushAt must be an integer from 1 to 10000, got "abc"'],
    [{ flushAt: 0 }, 'flushAt must be an integer from 1 to 10000, got 0'],
    [{ flushAt: 1.5 }, 'flushAt must be an integer from 1 to 10000, got 1.5'],
    [{ flushInterval: -1 }, 'flushInterval must be a number of seconds > 0, got -1'],
    [{ maxBatchBytes: 10 }, 'maxBatchBytes must be an integer ≥ 1024, got 10'],
    [{ storage: 'disk' }, `storage must be 'indexeddb' or 'memory', got "disk"`],
    [{ compression: 'br' }, `compression must be 'none', 'gzip' or 'auto', got "br"`],
    [{ retry: { maxAttempts: 0 } }, 'retry.maxAttempts must be an integer from 1 to 1000, got 0'],
    [{ headers: { a: 1 } }, 'headers.a values must be strings, got 1'],
    [{ onDrop: 'x' }, 'onDrop must be a function (onDrop), got "x"'],
    [{ flushat: 3 }, 'unknown option "flushat"'],
    [{ maxEventBytes: 4096, maxBatchBytes: 2048 }, 'maxEventBytes must be ≤ maxBatchBytes (2048), got 4096'],
  ])('%j → %s', (bad, message) => {
    const run = () => resolveOptions({ endpoint, ...bad }, undefined);
    expect(run).toThrow(OutboxOptionsError);
    expect(run).toThrow(message);
  });

  it('names a missing endpoint and lists every bad option at once', () => {
    expect(() => resolveOptions({ flushAt: 'x' }, undefined)).toThrow(/baseUrl is required .*; flushAt must be/);
  });

  it('refuses non-object options', () => {
    expect(() => resolveOptions('nope', undefined)).toThrow('options must be an object, got "nope"');
  });

  it('reads OUTBOX_* and LANGFUSE_* from the environment, explicit options winning', () => {
    const env = { LANGFUSE_BASEURL: 'https://lf.example/', LANGFUSE_PUBLIC_KEY: 'pk-lf', OUTBOX_FLUSH_AT: '20', LANGFUSE_FLUSH_INTERVAL: '5' };
    const o = resolveOptions({ flushInterval: 2 }, env);
    expect(o.endpoint).toBe('https://lf.example/api/public/ingestion');
    expect(o.publicKey).toBe('pk-lf');
    expect(o.flushAt).toBe(20);
    expect(o.flushInterval).toBe(2);
    expect(resolveOptions({}, { OUTBOX_ENDPOINT: endpoint, LANGFUSE_BASE_URL: 'https://ignored' }).endpoint).toBe(endpoint);
  });

  it('names the environment variable a bad value came from', () => {
    expect(() => resolveOptions({ endpoint }, { OUTBOX_FLUSH_AT: 'many' })).toThrow('flushAt (from OUTBOX_FLUSH_AT) must be an integer from 1 to 10000, got "many"');
  });

  it('optionsFromEnv ignores empty and non-string values', () => {
    expect(optionsFromEnv({ OUTBOX_ENDPOINT: '', OUTBOX_FLUSH_AT: 3 }).values).toEqual({});
  });
});

/**
 * The secret key: refused by the browser entry at creation with a clear error; in the Node entry it travels only
 * inside the `Authorization` header — never in a URL, another header, a debug log line, an error, a drop report,
 * or stats — even with debug on and the collector failing in every way.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createOutbox as createBrowserOutbox, OutboxOptionsError } from '../../src/index';
import { createOutbox as createNodeOutbox } from '../../src/node';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';

const SECRET = 'sk-lf-TOP-SECRET-4f9c1e';
const PUBLIC = 'pk-lf-public-77';
const BASIC = Buffer.from(`${PUBLIC}:${SECRET}`).toString('base64');

/** Every form the secret could leak in. */
const leaks = (text: string) => [SECRET, BASIC, encodeURIComponent(SECRET), Buffer.from(SECRET).toString('base64')].filter((s) => text.includes(s));

describe('browser entry (src/index.ts imported in Node)', () => {
  it('refuses a secretKey at creation with a clear error that does not echo it', () => {
    let error: unknown;
    try {
      createBrowserOutbox({ endpoint: 'http://collector.test/api/public/ingestion', publicKey: PUBLIC, secretKey: SECRET, storage: 'memory' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OutboxOptionsError);
    expect((error as Error).message).toMatch(/secretKey must not be used in a browser page/);
    expect(leaks(String((error as Error).stack))).toEqual([]);
  });

  it('refuses an empty-string secretKey too (any secret in a page is a mistake)', () => {
    expect(() => createBrowserOutbox({ endpoint: 'http://collector.test/x', secretKey: '', storage: 'memory' })).toThrow(OutboxOptionsError);
  });
});

describe('Node entry with a secretKey', () => {
  let collector: Collector;
  const lines: string[] = [];
  const urls: string[] = [];
  const otherHeaders: string[] = [];
  const authHeaders: string[] = [];
  const realFetch = globalThis.fetch;

  beforeAll(async () => {
    collector = await startCollector();
    for (const level of ['debug', 'log', 'info', 'warn', 'error'] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : typeof a === 'string' ? a : JSON.stringify(a))).join(' ')));
    }
    // Pass-through spy: the request really goes to the collector; we only look at what leaves.
    vi.stubGlobal('fetch', (input: RequestInfo | URL, init?: RequestInit) => {
      urls.push(String(input instanceof Request ? input.url : input));
      new Headers(init?.headers).forEach((value, name) => (name === 'authorization' ? authHeaders : otherHeaders).push(`${name}: ${value}`));
      return realFetch(input, init);
    });
  });
  afterAll(async () => {
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
    await collector.close();
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    collector.reset();
  });

  it('sends it only as Basic authorization, and no log line, URL, error, drop or stat ever contains it', async () => {
    const reports: string[] = [];
    const outbox = createNodeOutbox({
      endpoint: collector.endpoint,
      publicKey: PUBLIC,
      secretKey: SECRET,
      debug: true,
      flushAt: 2,
      flushInterval: 3600,
      retry: { initialDelayMs: 1, maxDelayMs: 5, maxAttempts: 2 },
      requestTimeoutMs: 300,
      onError: (e) => reports.push(`${e.message} ${e.stack}`),
      onDrop: (d) => reports.push(JSON.stringify(d)),
    });
    outbox.track('ok', { n: 1 });
    outbox.track('ok', { n: 2 });
    await outbox.flush();
    // Every failure path logs: 5xx (retried, then exhausted), 401, a connection reset, a timeout.
    collector.setFault({ mode: 'status', status: 500, times: 2 });
    outbox.track('fails', { n: 3 });
    await outbox.flush();
    await collector.waitFor((c) => c.fault().mode === 'none');
    await outbox.flush();
    collector.setFault({ mode: 'status', status: 401, times: 1 });
    outbox.track('rejected', { n: 4 });
    await outbox.flush();
    collector.setFault({ mode: 'down', times: 1 });
    outbox.track('reset', { n: 5 });
    await outbox.flush();
    collector.setFault({ mode: 'slow', delayMs: 2000, times: 1 });
    outbox.track('slow', { n: 6 });
    await outbox.flush();
    outbox.track('circular', (() => {
      const o: Record<string, unknown> = {};
      o.o = o;
      return o;
    })());
    await outbox.shutdown();
    const stats = outbox.stats();

    expect(collector.events().length).toBeGreaterThanOrEqual(2);
    expect(collector.requests().every((r) => r.auth === 'basic')).toBe(true);
    expect(lines.length, 'debug on: there are log lines to check').toBeGreaterThan(5);
    expect(lines.some((l) => /error|fail|HTTP 500|HTTP 401/.test(l))).toBe(true);
    expect(urls.length).toBeGreaterThanOrEqual(5);
    expect(authHeaders.every((h) => h === `authorization: Basic ${BASIC}`)).toBe(true);
    expect(authHeaders).toHaveLength(urls.length);

    expect(leaks(lines.join('\n')), 'log lines').toEqual([]);
    expect(leaks(urls.join('\n')), 'URLs').toEqual([]);
    expect(leaks(otherHeaders.join('\n')), 'headers other than Authorization').toEqual([]);
    expect(leaks(reports.join('\n')), 'onError/onDrop').toEqual([]);
    expect(leaks(JSON.stringify(stats)), 'stats()').toEqual([]);
    expect(leaks(JSON.stringify(collector.requests().map((r) => r.url))), 'URLs at the collector').toEqual([]);
    expect(leaks(JSON.stringify(collector.events())), 'stored events').toEqual([]);
  });

  it('an invalid option never echoes the secret, from options or from the environment', () => {
    const messages: string[] = [];
    const attempt = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        messages.push(String((e as Error).stack));
      }
    };
    attempt(() => createNodeOutbox({ endpoint: 'not a url', secretKey: SECRET, publicKey: PUBLIC }));
    attempt(() => createNodeOutbox({ endpoint: collector.endpoint, secretKey: SECRET, flushAt: 'abc' as never }));
    attempt(() => createNodeOutbox({ endpoint: collector.endpoint, secretKey: SECRET, secretkey: SECRET } as never));
    attempt(() => createNodeOutbox({ endpoint: collector.endpoint, secretKey: SECRET, headers: { 'x-sk': SECRET as unknown as number } as never, metadata: 5 as never }));
    vi.stubEnv('OUTBOX_ENDPOINT', collector.endpoint);
    vi.stubEnv('OUTBOX_SECRET_KEY', SECRET);
    vi.stubEnv('OUTBOX_FLUSH_AT', 'many');
    attempt(() => createNodeOutbox({}));
    expect(messages).toHaveLength(5);
    expect(messages.join('\n')).toMatch(/OUTBOX_FLUSH_AT/);
    expect(leaks(messages.join('\n'))).toEqual([]);
  });
});

// Failures that speak: without onDrop/onError, the first drop of each reason and the first failed send print one
// console warning that says what to do; with them, the console stays quiet. Options that are almost certainly a
// mistake throw at creation naming the option. Real Node client (src/node.ts) against the real collector.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { createOutbox, OutboxOptionsError } from '../../src/node';
import { OutboxSpanProcessor } from '../../src/otel';
import { createRelay } from '../../src/relay';

const PK = 'pk-lf-good';
const SK = 'sk-lf-good';
let collector: Collector;
let warnings: string[];
let debugLines: string[];

beforeAll(async () => {
  collector = await startCollector({ langfuse: 'v4', publicKeys: [PK], secretKeys: [SK] });
});
afterAll(() => collector.close());
beforeAllWarnSpy();
afterEach(() => {
  vi.unstubAllEnvs();
  collector.reset();
  collector.setFault({ mode: 'none' });
});

function beforeAllWarnSpy(): void {
  beforeAll(() => {
    vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void warnings.push(args.map(String).join(' ')));
    vi.spyOn(console, 'debug').mockImplementation((...args: unknown[]) => void debugLines.push(args.map(String).join(' ')));
  });
  afterAll(() => vi.restoreAllMocks());
  afterEach(() => {
    warnings = [];
    debugLines = [];
  });
  warnings = [];
  debugLines = [];
}

/** A trace (one span, one generation) and a score: what a Node app sends. */
function record(outbox: ReturnType<typeof createOutbox>): void {
  const turn = outbox.startObservation('turn');
  turn.startObservation('llm', { model: 'm' }, { asType: 'generation' }).end();
  turn.end();
  outbox.score({ name: 'helpful', value: 1, traceId: turn.traceId });
}

describe('console warnings without onDrop / onError', () => {
  it('wrong keys: exactly one warning, naming the 401 and the keys and variables to check', async () => {
    const outbox = createOutbox({ baseUrl: collector.url, publicKey: 'pk-lf-wrong', secretKey: 'sk-lf-wrong' });
    record(outbox);
    await outbox.flush();
    record(outbox); // a second failure of the same kind stays quiet
    await outbox.shutdown();
    expect(outbox.stats().dropped.rejected).toBe(6);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/401/);
    expect(warnings[0]).toContain(collector.url);
    expect(warnings[0]).toMatch(/check that publicKey and secretKey \(LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY\)/);
    expect(warnings[0]).not.toContain('sk-lf-wrong'); // names the variables, never the secret
  });

  it('nothing listening: one warning naming the URL when the first send fails, one at shutdown for what is left', async () => {
    const url = 'http://127.0.0.1:9';
    const outbox = createOutbox({ baseUrl: url, publicKey: PK, secretKey: SK, requestTimeoutMs: 2000 });
    record(outbox);
    await outbox.shutdown();
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(new RegExp(`sending to ${url} failed \\(network error.*check baseUrl \\(LANGFUSE_BASE_URL\\)`));
    expect(warnings[1]).toMatch(new RegExp(`3 record\\(s\\) dropped, not delivered before shutdown; last error: network error.*is ${url} right and reachable`));
  });

  it("a refused record: the warning quotes the server's words", async () => {
    const outbox = createOutbox({ baseUrl: collector.url, publicKey: PK, secretKey: SK });
    outbox.track('trace-create', { name: 'legacy' }); // Langfuse v4 takes only scores on /ingestion
    await outbox.shutdown();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/1 record\(s\) dropped, refused by http:.*: .*Event type not accepted/);
  });

  it('a server that keeps failing: one warning with its answer, the records stay queued', async () => {
    collector.setFault({ mode: 'status', status: 503 });
    const outbox = createOutbox({ baseUrl: collector.url, publicKey: PK, secretKey: SK, retry: { initialDelayMs: 1, maxDelayMs: 5, maxAttempts: 3 } });
    record(outbox);
    await outbox.flush();
    await vi.waitFor(() => expect(warnings.some((w) => /failed \(HTTP 503/.test(w))).toBe(true), { timeout: 10_000 });
    await outbox.shutdown();
    expect(warnings.filter((w) => /failed \(HTTP 503/.test(w))).toHaveLength(1);
  });

  it('with onDrop and onError the console stays quiet; debug: true logs every send', async () => {
    const drops: string[] = [];
    const outbox = createOutbox({ baseUrl: collector.url, publicKey: 'pk-lf-wrong', secretKey: 'sk-lf-wrong', debug: true, onDrop: (d) => drops.push(d.reason), onError: () => undefined });
    record(outbox);
    await outbox.shutdown();
    expect(drops.length).toBeGreaterThan(0);
    expect(warnings).toEqual([]);
    expect(debugLines.some((l) => /sending batch/.test(l))).toBe(true);
  });
});

describe('options that are almost certainly mistakes', () => {
  it('flushInterval in milliseconds by mistake throws at creation, naming the option (and the variable)', () => {
    expect(() => createOutbox({ baseUrl: collector.url, flushInterval: 1000 })).toThrow(OutboxOptionsError);
    expect(() => createOutbox({ baseUrl: collector.url, flushInterval: 5000 })).toThrow(/flushInterval is in seconds.*milliseconds by mistake.*got 5000/);
    vi.stubEnv('LANGFUSE_FLUSH_INTERVAL', '1000');
    expect(() => createOutbox({ baseUrl: collector.url })).toThrow(/flushInterval \(from LANGFUSE_FLUSH_INTERVAL\) is in seconds/);
    vi.unstubAllEnvs();
    expect(() => new OutboxSpanProcessor({ baseUrl: collector.url, publicKey: PK, secretKey: SK, flushInterval: 1000 })).toThrow(/flushInterval is in seconds/);
    // Seconds stay seconds, long ones included.
    void createOutbox({ baseUrl: collector.url, flushInterval: 3600 }).shutdown();
    void createOutbox({ baseUrl: collector.url, flushInterval: 0.5 }).shutdown();
  });

  it("timeout means what it means in the Langfuse SDKs (seconds per request), in createOutbox as in OutboxSpanProcessor", async () => {
    collector.setFault({ mode: 'slow', delayMs: 3000 });
    const outbox = createOutbox({ baseUrl: collector.url, publicKey: PK, secretKey: SK, timeout: 0.3, onDrop: () => undefined, onError: () => undefined });
    record(outbox);
    await outbox.flush();
    expect(outbox.stats().lastError).toBe('request timed out after 300 ms');
    await outbox.shutdown();
    expect(() => createOutbox({ baseUrl: collector.url, timeout: 2, requestTimeoutMs: 2000 })).toThrow(/timeout \(seconds\) or requestTimeoutMs \(milliseconds\), not both/);
    expect(() => createOutbox({ baseUrl: collector.url, timeout: 5000 })).toThrow(/timeout must be a number of seconds > 0 and ≤ 600/);
    expect(() => new OutboxSpanProcessor({ baseUrl: collector.url, timeout: 5000 })).toThrow(/timeout must be a number of seconds > 0 and ≤ 600/);
  });
});

it("a relay without configuration answers 503 naming its LANGFUSE_* variables", async () => {
  const relay = createRelay({});
  const response = await relay(
    new Request('http://app.test/lf/api/public/otel/v1/traces', { method: 'POST', headers: { Origin: 'http://app.test', Authorization: `Bearer ${PK}` }, body: '{}' }),
    {},
  );
  expect(response.status).toBe(503);
  expect(((await response.json()) as { message: string }).message).toMatch(/LANGFUSE_BASE_URL, LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY/);
});

// Dedup across relay instances in real workerd (miniflare 4): several Worker scripts run the same relay, each
// its own instance (own module state, own per-instance window), all forwarding to the fake Langfuse on 127.0.0.1,
// which stores every arrival (no dedup of its own: a record forwarded twice is stored twice). Two of them share
// the OutboxDedup Durable Object (SQLite-backed) through their OUTBOX_DEDUP bindings; two have no binding; one is
// bound to a Durable Object that throws on every call.
import { build } from 'esbuild';
import { Log, LogLevel, Miniflare, type MiniflareOptions } from 'miniflare';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream';
import { INGESTION, ORIGIN, OTLP, PK, SK, ingestionBody, otlpBody, score, span, spanKey } from './helpers';

const RECEIPTS = '/outbox/receipts';

type Stats = {
  relay: { received: number; forwarded: number; duplicates: number; sharedDuplicates: number; sharedBusy: number; sharedFailures: number; sharedEvicted: number; receipts: number; receiptsTaken: number };
  reports: string[];
};
type Instance = 'a' | 'b' | 'slow' | 'quick' | 'shard-a' | 'shard-b' | 'tiny-a' | 'tiny-b' | 'solo-a' | 'solo-b' | 'broken' | 'hung';
const INSTANCES: Instance[] = ['a', 'b', 'slow', 'quick', 'shard-a', 'shard-b', 'tiny-a', 'tiny-b', 'solo-a', 'solo-b', 'broken', 'hung'];

let upstream: FakeUpstream;
let mf: Miniflare;
let options: MiniflareOptions;
let outDir: string;

const urls = new Map<string, string>();
/** Real HTTP from Node to the instance's own socket (its direct socket: no Miniflare entry worker in between). */
const call = (instance: Instance, p: string, init: RequestInit) => fetch(urls.get(`relay-${instance}`)!.replace(/\/$/, '') + p, init);
const send = (instance: Instance, p: string, body: unknown) =>
  call(instance, p, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${PK}`, Origin: ORIGIN }, body: JSON.stringify(body) });
const beacon = (instance: Instance, body: unknown) =>
  call(instance, `${OTLP}?pk=${PK}`, { method: 'POST', headers: { 'Content-Type': 'text/plain;charset=UTF-8', Origin: ORIGIN }, body: JSON.stringify(body) });
async function findSockets() {
  await mf.ready;
  for (const name of INSTANCES) urls.set(`relay-${name}`, (await mf.unsafeGetDirectURL(`relay-${name}`)).href);
}
const stats = async (instance: Instance): Promise<Stats> => (await call(instance, '/stats', { method: 'GET' })).json() as Promise<Stats>;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  outDir = mkdtempSync(path.join(tmpdir(), 'outbox-dedup-'));
  const scriptPath = path.join(outDir, 'relay-dedup-worker.mjs');
  await build({
    entryPoints: [path.resolve(import.meta.dirname, 'fixtures/relay-dedup-worker.ts')],
    outfile: scriptPath,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker'],
    external: ['cloudflare:*'],
    logLevel: 'error',
  });
  const bindings = { LANGFUSE_BASE_URL: upstream.url, LANGFUSE_PUBLIC_KEY: PK, LANGFUSE_SECRET_KEY: SK };
  const worker = (name: string, durableObjects?: Record<string, { className: string; scriptName?: string; useSQLite: boolean }>, extra: Record<string, string> = {}) => ({
    name,
    modules: true,
    modulesRoot: outDir,
    scriptPath,
    compatibilityDate: '2025-09-01',
    bindings: { ...bindings, ...extra },
    unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
    ...(durableObjects ? { durableObjects } : {}),
  });
  const shared = { OUTBOX_DEDUP: { className: 'OutboxDedup', scriptName: 'dedup-host', useSQLite: true } };
  const separate = { OUTBOX_DEDUP: { className: 'OutboxDedupSeparate', scriptName: 'dedup-host', useSQLite: true } };
  options = {
    cf: false,
    // The objects' SQLite storage in a folder, so it outlives a restart of workerd (the last test).
    durableObjectsPersist: path.join(outDir, 'durable-objects'),
    log: new Log(LogLevel.WARN),
    workers: [
      // The first worker is Miniflare's entry; it also hosts the object both relays bind to.
      worker('dedup-host', { OUTBOX_DEDUP_HOST: { className: 'OutboxDedup', useSQLite: true }, SEPARATE_HOST: { className: 'OutboxDedupSeparate', useSQLite: true } }),
      worker('relay-a', shared),
      worker('relay-b', shared),
      // Two more on the same object: one whose forwarding may take 20 s, one that waits at most 500 ms for another's.
      worker('relay-slow', shared, { UPSTREAM_TIMEOUT_MS: '20000' }),
      worker('relay-quick', shared, { UPSTREAM_TIMEOUT_MS: '500' }),
      // Four objects (by a hash of the id) instead of one.
      worker('relay-shard-a', shared, { DEDUP_SHARDS: '4' }),
      worker('relay-shard-b', shared, { DEDUP_SHARDS: '4' }),
      // A window of 5 ids, in an object of its own.
      worker('relay-tiny-a', separate, { DEDUP_MAX_IDS: '5' }),
      worker('relay-tiny-b', separate, { DEDUP_MAX_IDS: '5' }),
      worker('relay-solo-a'),
      worker('relay-solo-b'),
      worker('relay-broken', { OUTBOX_DEDUP: { className: 'BrokenDedup', useSQLite: true } }),
      // An object that does not answer; the relay waits 500 ms for busy ids, so it gives a claim 1 s.
      worker('relay-hung', { OUTBOX_DEDUP: { className: 'HangingDedup', useSQLite: true } }, { UPSTREAM_TIMEOUT_MS: '500' }),
    ],
  };
  mf = new Miniflare(options);
  await findSockets();
});
afterAll(async () => {
  await mf?.dispose();
  await upstream?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});
beforeEach(() => upstream.reset());

describe('dedup across relay instances (OutboxDedup)', () => {
  it('the same records sent to both instances, at once and one after the other: every id forwarded once', async () => {
    const batches = Array.from({ length: 6 }, (_, b) => Array.from({ length: 20 }, (_, i) => span(70_000 + b * 100 + i)));
    const scores = Array.from({ length: 6 }, (_, b) => [score(`shared-${b}-1`), score(`shared-${b}-2`)]);
    // At once: each batch to both instances concurrently (one claims, the other waits for its settle).
    const concurrent = await Promise.all(batches.flatMap((spans, b) => [send('a', OTLP, otlpBody(spans)), send('b', OTLP, otlpBody(spans)), send('a', INGESTION, ingestionBody(scores[b]!)), send('b', INGESTION, ingestionBody(scores[b]!))]));
    for (const r of concurrent) expect(r.status).toBeLessThan(300);
    // One after the other: every batch again to each instance, and once as a beacon.
    for (const [b, spans] of batches.entries()) {
      for (const instance of ['b', 'a'] as const) {
        expect((await send(instance, OTLP, otlpBody(spans))).status).toBe(200);
        const again = await send(instance, INGESTION, ingestionBody(scores[b]!));
        expect(again.status).toBe(207);
        expect(((await again.json()) as { successes: unknown[] }).successes).toHaveLength(2);
      }
    }
    // A beacon (answered 202 at once, delivered in the background) and a fetch of the same new spans, at once.
    const beaconed = Array.from({ length: 20 }, (_, i) => span(79_000 + i));
    const [viaBeacon, viaFetch] = await Promise.all([beacon('a', otlpBody(beaconed)), send('b', OTLP, otlpBody(beaconed))]);
    expect([viaBeacon.status, viaFetch.status]).toEqual([202, 200]);
    const all = [...batches.flat().map(spanKey), ...beaconed.map(spanKey), ...scores.flat().map((s) => s.id)];
    await expect.poll(() => upstream.spans.length + upstream.events.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(all.length);
    for (const instance of ['a', 'b'] as const) expect((await send(instance, OTLP, otlpBody(beaconed))).status).toBe(200);
    const copies = upstream.copies();
    for (const k of all) expect(copies.get(k), k).toBe(1);
    expect(upstream.spans.length + upstream.events.length).toBe(all.length);
    const [a, b] = [(await stats('a')).relay, (await stats('b')).relay];
    expect(a.forwarded + b.forwarded).toBe(all.length);
    // Every copy beyond the first was refused: by the shared object (the other instance's) or by the own window.
    // Every batch reached the pair 4 times (2 at once, 2 after), the beaconed spans 4 times too.
    expect(a.received + b.received).toBe(all.length * 4);
    expect(a.duplicates + b.duplicates).toBe(all.length * 3);
    expect(a.sharedDuplicates + b.sharedDuplicates).toBeGreaterThanOrEqual(all.length);
    expect(a.sharedFailures + b.sharedFailures).toBe(0);
    expect(a.sharedBusy + b.sharedBusy).toBe(0);
  });

  it('a forwarding that fails releases its claim: the resend, through the other instance, is forwarded once', async () => {
    const spans = Array.from({ length: 10 }, (_, i) => span(75_000 + i));
    upstream.mode = '500';
    const failed = await send('a', OTLP, otlpBody(spans));
    expect(failed.status).toBe(503);
    expect(upstream.spans).toHaveLength(0);
    upstream.mode = 'ok';
    expect((await send('b', OTLP, otlpBody(spans))).status).toBe(200);
    expect((await send('a', OTLP, otlpBody(spans))).status).toBe(200);
    expect(upstream.copies()).toEqual(new Map(spans.map((s) => [spanKey(s), 1])));
  });

  it('records another instance holds longer than the wait: asked to retry (OTLP 503, ingestion per-event 503), never forwarded twice', async () => {
    const spans = Array.from({ length: 10 }, (_, i) => span(76_000 + i));
    const scores = [score('held-1'), score('held-2')];
    upstream.mode = 'hold';
    const slowSpans = send('slow', OTLP, otlpBody(spans));
    const slowScores = send('slow', INGESTION, ingestionBody(scores));
    await expect.poll(() => upstream.requests.length, { timeout: 10_000 }).toBe(2);
    const quickBefore = (await stats('quick')).relay;
    // The quick instance waits 500 ms for the slow one's claim, then asks its page to retry.
    const busySpans = await send('quick', OTLP, otlpBody(spans));
    expect(busySpans.status).toBe(503);
    expect(busySpans.headers.get('Retry-After')).toBe('5');
    expect(((await busySpans.json()) as { message: string }).message).toMatch(/another relay instance/);
    const busyScores = await send('quick', INGESTION, ingestionBody(scores));
    expect(busyScores.status).toBe(207);
    const answer = (await busyScores.json()) as { successes: { id: string }[]; errors: { id: string; status: number }[] };
    expect(answer.successes).toEqual([]);
    expect(answer.errors.map((e) => [e.id, e.status])).toEqual([['held-1', 503], ['held-2', 503]]);
    expect(upstream.requests).toHaveLength(2); // nothing went upstream from the quick instance
    upstream.release();
    expect((await slowSpans).status).toBe(200);
    expect((await slowScores).status).toBe(207);
    // The page's retries are now acknowledged without forwarding; a new score next to them is forwarded.
    expect((await send('quick', OTLP, otlpBody(spans))).status).toBe(200);
    const retried = await send('quick', INGESTION, ingestionBody([...scores, score('held-3')]));
    expect(((await retried.json()) as { successes: { id: string }[] }).successes.map((s) => s.id).sort()).toEqual(['held-1', 'held-2', 'held-3']);
    const copies = upstream.copies();
    for (const k of [...spans.map(spanKey), 'held-1', 'held-2', 'held-3']) expect(copies.get(k), k).toBe(1);
    expect(upstream.spans.length + upstream.events.length).toBe(13);
    const quick = (await stats('quick')).relay;
    expect(quick.sharedBusy - quickBefore.sharedBusy).toBe(12);
    expect(quick.forwarded - quickBefore.forwarded).toBe(1);
  });

  it('spread over 4 objects (dedupShards: 4): the same records sent to both instances are forwarded once', async () => {
    const spans = Array.from({ length: 40 }, (_, i) => span(77_000 + i));
    const scores = Array.from({ length: 8 }, (_, i) => score(`sharded-${i}`));
    const first = await Promise.all([send('shard-a', OTLP, otlpBody(spans)), send('shard-b', OTLP, otlpBody(spans)), send('shard-a', INGESTION, ingestionBody(scores)), send('shard-b', INGESTION, ingestionBody(scores))]);
    for (const r of first) expect(r.status).toBeLessThan(300);
    for (const instance of ['shard-b', 'shard-a'] as const) expect((await send(instance, OTLP, otlpBody(spans))).status).toBe(200);
    const copies = upstream.copies();
    for (const k of [...spans.map(spanKey), ...scores.map((s) => s.id)]) expect(copies.get(k), k).toBe(1);
    const [a, b] = [(await stats('shard-a')).relay, (await stats('shard-b')).relay];
    expect(a.forwarded + b.forwarded).toBe(48);
    expect(a.sharedFailures + b.sharedFailures).toBe(0);
  });

  it('the object holds at most maxIds: beyond it the oldest ids are forgotten, counted, and a resend of those is forwarded again', async () => {
    const spans = Array.from({ length: 10 }, (_, i) => span(78_000 + i));
    expect((await send('tiny-a', OTLP, otlpBody(spans))).status).toBe(200);
    expect((await stats('tiny-a')).relay.sharedEvicted).toBe(5);
    expect((await send('tiny-b', OTLP, otlpBody(spans))).status).toBe(200);
    const copies = upstream.copies();
    expect(spans.map((s) => copies.get(spanKey(s)))).toEqual([2, 2, 2, 2, 2, 1, 1, 1, 1, 1]);
    const b = (await stats('tiny-b')).relay;
    expect(b).toMatchObject({ forwarded: 5, sharedDuplicates: 5 });
  });

  it('without the binding each instance deduplicates alone: the same records sent to both are forwarded twice', async () => {
    const spans = Array.from({ length: 10 }, (_, i) => span(80_000 + i));
    expect((await send('solo-a', OTLP, otlpBody(spans))).status).toBe(200);
    expect((await send('solo-b', OTLP, otlpBody(spans))).status).toBe(200);
    // Each instance still refuses its own resend.
    expect((await send('solo-a', OTLP, otlpBody(spans))).status).toBe(200);
    const copies = upstream.copies();
    for (const s of spans) expect(copies.get(spanKey(s))).toBe(2);
    expect((await stats('solo-a')).relay).toMatchObject({ forwarded: 10, duplicates: 10, sharedDuplicates: 0, sharedFailures: 0 });
    expect((await stats('solo-b')).relay).toMatchObject({ forwarded: 10, duplicates: 0 });
  });

  it('an object that fails: the relay forwards with its own window (fails open), counts every failure, warns once', async () => {
    const spans = Array.from({ length: 10 }, (_, i) => span(90_000 + i));
    expect((await send('broken', OTLP, otlpBody(spans))).status).toBe(200);
    expect((await send('broken', OTLP, otlpBody(spans))).status).toBe(200); // own window: not forwarded again
    expect((await send('broken', INGESTION, ingestionBody([score('broken-1')]))).status).toBe(207);
    expect(upstream.spans).toHaveLength(10);
    expect(upstream.events).toEqual(['broken-1']);
    const s = await stats('broken');
    // Two failed claims (the repeat never reached the object: the own window answered it); a failed claim holds
    // nothing, so there is nothing to settle.
    expect(s.relay).toMatchObject({ forwarded: 11, duplicates: 10, sharedFailures: 2 });
    const warnings = s.reports.filter((m) => m.includes('OutboxDedup'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/failed on claim: .*BrokenDedup: this object fails on purpose.*deduplicating per instance/);
  });

  it('an object that does not answer: after the wait plus 1 s the relay forwards with its own window, counted', async () => {
    const spans = Array.from({ length: 5 }, (_, i) => span(91_000 + i));
    expect((await send('hung', OTLP, otlpBody(spans))).status).toBe(200);
    expect(upstream.spans).toHaveLength(5);
    const s = await stats('hung');
    expect(s.relay).toMatchObject({ forwarded: 5, sharedFailures: 1 });
    expect(s.reports).toEqual([expect.stringMatching(/failed on claim: no answer within 1500 ms; deduplicating per instance/)]);
  });

  it('hostile input to a relay with the shared object is still a clear 4xx, nothing forwarded or claimed', async () => {
    const before = (await stats('a')).relay;
    const bad = await send('a', OTLP, otlpBody([span(1, { spanId: 'xyz' })]));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/spanId/);
    const badJson = await call('a', OTLP, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${PK}`, Origin: ORIGIN }, body: '{"resourceSpans":' });
    expect(badJson.status).toBe(400);
    expect((await call('a', OTLP, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${SK}`, Origin: ORIGIN }, body: '{}' })).status).toBe(403);
    expect(upstream.requests).toHaveLength(0);
    const after = (await stats('a')).relay;
    expect(after.received).toBe(before.received);
    expect(after.sharedFailures).toBe(0);
  });

  it('receipts: ids forwarded through one instance are reported taken by a query to another sharing the object; not without it', async () => {
    const spans = Array.from({ length: 10 }, (_, i) => span(96_000 + i));
    const scores = [score('receipt-1'), score('receipt-2')];
    expect((await send('a', OTLP, otlpBody(spans))).status).toBe(200);
    expect((await send('a', INGESTION, ingestionBody(scores))).status).toBe(207);
    const requests = upstream.requests.length;
    const before = (await stats('b')).relay;
    const never = spanKey(span(96_999));
    const res = await send('b', RECEIPTS, { events: ['receipt-1', 'receipt-never', 'receipt-2'], spans: [...spans.map(spanKey), never] });
    expect(res.status).toBe(200);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe(ORIGIN);
    expect(await res.json()).toEqual({ events: ['receipt-1', 'receipt-2'], spans: spans.map(spanKey) });
    expect(upstream.requests).toHaveLength(requests); // the query forwarded nothing
    const b = (await stats('b')).relay;
    expect(b.receipts - before.receipts).toBe(1);
    expect(b.receiptsTaken - before.receiptsTaken).toBe(12);
    expect(b.forwarded).toBe(before.forwarded);
    expect(b.sharedFailures).toBe(0);
    // Without the binding, each instance answers from its own window only: solo-b never saw what solo-a took.
    expect((await send('solo-a', OTLP, otlpBody(spans))).status).toBe(200);
    expect(await (await send('solo-a', RECEIPTS, { spans: spans.map(spanKey) })).json()).toEqual({ events: [], spans: spans.map(spanKey) });
    expect(await (await send('solo-b', RECEIPTS, { spans: spans.map(spanKey) })).json()).toEqual({ events: [], spans: [] });
    // Spread over 4 objects, the same.
    expect((await send('shard-a', OTLP, otlpBody(spans))).status).toBe(200);
    expect(await (await send('shard-b', RECEIPTS, { spans: spans.map(spanKey) })).json()).toEqual({ events: [], spans: spans.map(spanKey) });
  });

  it('receipts: a query while another instance still forwards the records waits in the object and reports them taken', async () => {
    const spans = Array.from({ length: 5 }, (_, i) => span(97_000 + i));
    upstream.mode = 'hold';
    const forwarding = send('slow', OTLP, otlpBody(spans));
    await expect.poll(() => upstream.requests.length, { timeout: 10_000 }).toBe(1);
    let answered = false;
    const query = send('b', RECEIPTS, { spans: spans.map(spanKey) }).finally(() => (answered = true));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(answered).toBe(false); // b waits (up to its upstreamTimeoutMs, 10 s) for slow's settle
    upstream.release();
    expect((await forwarding).status).toBe(200);
    const res = await query;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ events: [], spans: spans.map(spanKey) });
    expect((await stats('b')).relay.sharedFailures).toBe(0);
    // A query to an instance that waits at most 500 ms, while the records are held: not (yet) taken.
    upstream.mode = 'hold';
    const more = Array.from({ length: 3 }, (_, i) => span(97_100 + i));
    const held = send('slow', OTLP, otlpBody(more));
    await expect.poll(() => upstream.requests.length, { timeout: 10_000 }).toBe(2);
    expect(await (await send('quick', RECEIPTS, { spans: more.map(spanKey) })).json()).toEqual({ events: [], spans: [] });
    upstream.release();
    expect((await held).status).toBe(200);
  });

  it('receipts: an object that fails answers from the own window (fails open), counted', async () => {
    const spans = Array.from({ length: 4 }, (_, i) => span(98_000 + i));
    expect((await send('broken', OTLP, otlpBody(spans))).status).toBe(200);
    const before = (await stats('broken')).relay;
    const res = await send('broken', RECEIPTS, { spans: [...spans.map(spanKey), spanKey(span(98_999))] });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ events: [], spans: spans.map(spanKey) });
    const after = (await stats('broken')).relay;
    expect(after.sharedFailures - before.sharedFailures).toBe(1); // the one id the own window lacked was asked
  });

  it('receipts: hostile queries to a relay with the shared object are a clear 4xx, nothing asked of the object', async () => {
    const before = (await stats('a')).relay;
    const bad = await send('a', RECEIPTS, { spans: Array.from({ length: 5001 }, (_, i) => `s-${i}`) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/at most 5000 ids/);
    const secret = await call('a', RECEIPTS, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${SK}`, Origin: ORIGIN }, body: '{}' });
    expect(secret.status).toBe(403);
    const after = (await stats('a')).relay;
    expect(after.receipts).toBe(before.receipts);
    expect(after.sharedFailures).toBe(0);
  });

  it('the window outlives the object leaving memory: after a restart of workerd (objects and relays anew), a resend is not forwarded', async () => {
    const spans = Array.from({ length: 10 }, (_, i) => span(95_000 + i));
    expect((await send('a', OTLP, otlpBody(spans))).status).toBe(200);
    await mf.setOptions(options); // every Worker and object starts again: no relay's own window is left
    await findSockets();
    expect((await stats('b')).relay.received).toBe(0); // a new relay instance
    expect((await send('b', OTLP, otlpBody(spans))).status).toBe(200);
    expect((await stats('b')).relay).toMatchObject({ received: 10, forwarded: 0, duplicates: 10, sharedDuplicates: 10 });
    expect(upstream.copies()).toEqual(new Map(spans.map((s) => [spanKey(s), 1])));
  });
});

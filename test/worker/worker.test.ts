// The Workers entry in real workerd (miniflare 4), sending to the real collector over real HTTP.
import type { Miniflare } from 'miniflare';
import { startWorkerd, type Workerd } from '../helpers/workerd';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';

/** A proxy in front of the collector that can hold requests unanswered until released. */
async function startGate(target: () => string) {
  let holding = false;
  let seen = 0;
  let abandoned = 0;
  const held: (() => void)[] = [];
  const server = http.createServer((req, res) => {
    seen++;
    // A Worker that did not hand the send to waitUntil has it cancelled once the response is done: the
    // connection closes before we answer.
    res.on('close', () => {
      if (!res.writableFinished) abandoned++;
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const forward = async () => {
        try {
          const headers: Record<string, string> = {};
          for (const h of ['authorization', 'content-type', 'content-encoding']) if (req.headers[h]) headers[h] = String(req.headers[h]);
          const r = await fetch(target() + req.url, { method: req.method, headers, body: Buffer.concat(chunks) });
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' });
          res.end(Buffer.from(await r.arrayBuffer()));
        } catch {
          res.destroy();
        }
      };
      if (holding) held.push(() => void forward());
      else void forward();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      for (const f of held.splice(0)) f();
    },
    /** Releases what is held and zeroes the counters. */
    reset() {
      this.release();
      seen = abandoned = 0;
    },
    seen: () => seen,
    held: () => held.length,
    /** Requests whose client went away before the answer. */
    abandoned: () => abandoned,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let collector: Collector;
let gate: Awaited<ReturnType<typeof startGate>>;
let mf: Miniflare;
let workerd: Workerd;

type Report = { kind: 'drop' | 'error'; reason?: string; count?: number; ids?: string[]; detail?: string; message?: string };
const reports = async (): Promise<Report[]> => (await mf.dispatchFetch('http://worker/reports')).json() as Promise<Report[]>;
const body = (e: { body: unknown }) => e.body as { req: number; i: number };
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Holds ingestion until `count` requests wait, gives workerd time to cancel work not kept by waitUntil, releases. */
async function releaseAfterHold(count: number): Promise<void> {
  await expect.poll(() => gate.held(), { timeout: 20_000 }).toBe(count);
  await pause(1000);
  gate.release();
}

beforeAll(async () => {
  collector = await startCollector();
  gate = await startGate(() => collector.url);
  workerd = await startWorkerd({
    entry: 'test/worker/fixtures/app.ts',
    socket: true,
    bindings: { OUTBOX_ENDPOINT: `${gate.url}/api/public/ingestion`, REQUEST_TIMEOUT_MS: '600000', WAIT_UNTIL_BUDGET_MS: '5000' },
  });
  mf = workerd.mf;
});

afterAll(async () => {
  await workerd?.dispose();
  await gate?.close();
  await collector?.close();
});

beforeEach(() => {
  collector.reset();
  gate.reset();
});

describe('withOutbox in workerd', () => {
  it('answers before any of its I/O, then delivers the 3 events through waitUntil', async () => {
    gate.hold(); // every ingestion request stays unanswered until release()
    const before = (await reports()).length;
    const res = await mf.dispatchFetch('http://worker/track?req=1');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('tracked 3 for request 1');
    // The response is here while the collector has stored nothing and no ingestion request has been answered.
    expect(collector.stats().eventsStored).toBe(0);
    expect(collector.stats().requests).toBe(0);
    // The send happens after the response, inside waitUntil.
    await releaseAfterHold(1);
    const events = await collector.waitFor((c) => (c.events().length === 3 ? c.events() : null), 20_000);
    await collector.waitFor((c) => c.stats().byStatus['207'] === 1, 20_000);
    expect(gate.abandoned()).toBe(0); // the worker was still waiting for the answer: the send lives in waitUntil
    expect(events.map((e) => [e.type, body(e).req, body(e).i])).toEqual([
      ['span-create', 1, 0],
      ['span-create', 1, 1],
      ['span-create', 1, 2],
    ]);
    const [request] = collector.requests();
    expect(request).toMatchObject({ status: 207, count: 3, auth: 'basic' }); // secretKey allowed: Basic pk:sk
    expect((await reports()).slice(before)).toEqual([]);
  });

  it('50 concurrent requests → 150 events stored, none lost, each request in order', async () => {
    const before = (await reports()).length;
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, req) => mf.dispatchFetch(`http://worker/track?req=${req}`).then(async (r) => [r.status, await r.text()])),
    );
    expect(responses.every(([status]) => status === 200)).toBe(true);
    await collector.waitFor((c) => c.stats().eventsStored >= 150, 30_000);
    await new Promise((r) => setTimeout(r, 300)); // any stray duplicate or extra event would show up here
    const events = collector.events();
    expect(events).toHaveLength(150);
    expect(collector.stats().duplicates).toBe(0);
    for (let req = 0; req < 50; req++) {
      expect(events.filter((e) => body(e).req === req).map((e) => body(e).i)).toEqual([0, 1, 2]);
    }
    expect(collector.requests().length).toBe(50); // one batch per invocation
    expect((await reports()).slice(before)).toEqual([]);
  });

  it('collector down: the response is unaffected and the loss is reported, not silent', async () => {
    collector.setFault({ mode: 'down' });
    const before = (await reports()).length;
    const res = await mf.dispatchFetch('http://worker/track?req=7');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('tracked 3 for request 7');
    const drops = await expect
      .poll(async () => (await reports()).slice(before).filter((r) => r.kind === 'drop'), { timeout: 20_000 })
      .toEqual([expect.objectContaining({ reason: 'shutdown', count: 3 })]);
    void drops;
    expect(collector.stats().eventsStored).toBe(0);
    expect(collector.stats().requests).toBeGreaterThan(0); // it did try
  });

  it('scheduled(): the cron invocation gets its own client and its event is delivered', async () => {
    const worker = await mf.getWorker();
    const result = await worker.scheduled({ cron: '*/5 * * * *', scheduledTime: new Date() });
    expect(result.outcome).toBe('ok');
    const events = await collector.waitFor((c) => (c.events().length === 1 ? c.events() : null), 20_000);
    expect(events[0]).toMatchObject({ type: 'cron', body: { cron: '*/5 * * * *' } });
  });
});

describe('createOutbox in workerd, without the wrapper', () => {
  it('with ctx: sends at the end of the task through ctx.waitUntil', async () => {
    gate.hold();
    const res = await mf.dispatchFetch('http://worker/ctx?req=3');
    expect(await res.text()).toBe('tracked 3 (/ctx)');
    await releaseAfterHold(1);
    const events = await collector.waitFor((c) => (c.events().length === 3 ? c.events() : null), 20_000);
    await collector.waitFor((c) => c.stats().byStatus['207'] === 1, 20_000);
    expect(gate.abandoned()).toBe(0);
    expect(events.map((e) => [e.type, body(e).i])).toEqual([['ctx', 0], ['ctx', 1], ['ctx', 2]]);
  });

  it("without ctx: track() is still flushed, through waitUntil from 'cloudflare:workers'", async () => {
    gate.hold();
    const res = await mf.dispatchFetch('http://worker/bare?req=4');
    expect(await res.text()).toBe('tracked 3 (/bare)');
    await releaseAfterHold(1);
    const events = await collector.waitFor((c) => (c.events().length === 3 ? c.events() : null), 20_000);
    await collector.waitFor((c) => c.stats().byStatus['207'] === 1, 20_000);
    expect(gate.abandoned()).toBe(0);
    expect(events.map((e) => [e.type, body(e).i])).toEqual([['bare', 0], ['bare', 1], ['bare', 2]]);
  });
});

describe('the waitUntil budget', () => {
  it('a collector that never answers: gives up within the waitUntil budget and reports the loss', async () => {
    // requestTimeoutMs is 600 000 in this worker's env; only the budget (injected: 5 s instead of 25 s) can end
    // the request in time.
    gate.hold();
    const before = (await reports()).length;
    const res = await mf.dispatchFetch('http://worker/track?req=9');
    expect(res.status).toBe(200);
    await expect
      .poll(async () => (await reports()).slice(before).filter((r) => r.kind === 'drop'), { timeout: 20_000, interval: 200 })
      .toEqual([expect.objectContaining({ reason: 'shutdown', count: 3 })]);
    expect(collector.stats().eventsStored).toBe(0);
  });
});

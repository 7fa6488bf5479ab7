// The clients' side of the relay's receipts (src/wire/receipts.ts, the worker's resend in src/sync/resend.ts, the
// recovering page's ask in src/platform/acked.ts) against the real relay under node:http, in front of a fake
// Langfuse, over real HTTP on 127.0.0.1.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../relay/fake-upstream';
import { INGESTION, ORIGIN, OTLP, PK, SK, ingestionBody, otlpBody, post, score, span, spanKey, startRelayServer } from '../relay/helpers';
import { askReceipts } from '../../src/wire/receipts';
import { resend } from '../../src/sync/resend';
import { relayReceipts } from '../../src/platform/receipts';
import type { OutgoingBatch, StoredEvent } from '../../src/core/types';
import { createPageTransport } from '../../src/platform/page-transport';
import { createReachability } from '../../src/transport/reachability';
import { createKeepaliveBudget } from '../../src/transport/keepalive-budget';
import { createIngestionWire } from '../../src/wire/ingestion';

let upstream: FakeUpstream;
let server: Awaited<ReturnType<typeof startRelayServer>>;
const auth = { Authorization: `Bearer ${PK}` };

beforeAll(async () => {
  upstream = await startFakeUpstream();
  server = await startRelayServer({ upstream: { baseUrl: upstream.url, publicKey: PK, secretKey: SK }, allowOrigins: [ORIGIN], allowNoOrigin: true, rateLimit: false });
});
afterAll(async () => {
  await server?.close();
  await upstream?.close();
});
beforeEach(() => upstream.reset());

const receiptsUrl = () => `${server.url}/outbox/receipts`;
/** A stored request as the worker keeps it: the page's batch to the relay's ingestion path. */
const stored = (events: unknown[]) =>
  new Request(server.url + INGESTION, { method: 'POST', headers: { 'Content-Type': 'application/json', ...auth }, body: JSON.stringify(ingestionBody(events)) });

describe('askReceipts', () => {
  it('answers the ids the relay took, of both wires, and not the others', async () => {
    const taken = [score('r1'), score('r2')];
    expect((await post(server.url, INGESTION, ingestionBody(taken))).status).toBeLessThan(300);
    const spans = [span(101), span(102)];
    expect((await post(server.url, OTLP, otlpBody(spans))).status).toBe(200);
    const got = await askReceipts(receiptsUrl(), auth, ['r1', 'r2', 'never-sent'], [spanKey(spans[0]!), spanKey(span(103))], 5000);
    expect(got).not.toBeTypeOf('string');
    const r = got as Exclude<typeof got, string>;
    expect([...r.events].sort()).toEqual(['r1', 'r2']);
    expect([...r.spans]).toEqual([spanKey(spans[0]!)]);
  });

  it('splits a large ask and merges the answers', async () => {
    const ids = Array.from({ length: 6000 }, (_, i) => `big-${i}`);
    const got = await askReceipts(receiptsUrl(), auth, ids, [], 5000);
    expect(got).toEqual({ events: new Set(), spans: new Set() });
  });

  it("'down' when nobody answers, 'unknown' from a server that is not a relay", async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await askReceipts(`http://127.0.0.1:${port}/outbox/receipts`, auth, ['x'], [], 2000)).toBe('down');
    // Langfuse (here its stand-in) has no such route.
    expect(await askReceipts(`${upstream.url}/outbox/receipts`, auth, ['x'], [], 2000)).toBe('unknown');
    // A 503 (the relay overloaded): a resend now would meet the same.
    const busy = http.createServer((_, res) => res.writeHead(503).end());
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    expect(await askReceipts(`http://127.0.0.1:${(busy.address() as AddressInfo).port}/outbox/receipts`, auth, ['x'], [], 2000)).toBe('down');
    await new Promise<void>((r) => busy.close(() => r()));
  });
});

describe("the worker's resend with receipts", () => {
  const drops: unknown[] = [];
  it('sends nothing when the relay took every event, and only the rest when it took some', async () => {
    await post(server.url, INGESTION, ingestionBody([score('w1'), score('w2')]));
    const before = upstream.requests.length;
    expect(await resend(stored([score('w1'), score('w2')]), 5000, (d) => drops.push(d), receiptsUrl())).toEqual({ kind: 'done', delivered: 2 });
    expect(upstream.requests.length).toBe(before); // not forwarded: the relay was not even asked to

    const outcome = await resend(stored([score('w1'), score('w3')]), 5000, (d) => drops.push(d), receiptsUrl());
    expect(outcome).toEqual({ kind: 'done', delivered: 2 });
    // w1 went up once (the first post), w3 once (the rest of the second resend).
    const copies = upstream.copies();
    expect([copies.get('w1'), copies.get('w2'), copies.get('w3')]).toEqual([1, 1, 1]);
    expect(drops).toEqual([]);
  });

  it('without receipts (or told not to ask) it sends the whole request again', async () => {
    await post(server.url, INGESTION, ingestionBody([score('n1')]));
    const before = upstream.requests.length;
    expect(await resend(stored([score('n1')]), 5000, () => undefined)).toEqual({ kind: 'done', delivered: 1 });
    expect(await resend(stored([score('n1')]), 5000, () => undefined, receiptsUrl(), false)).toEqual({ kind: 'done', delivered: 1 });
    // The relay's dedup answered both without forwarding; what counts here is that both were sent to it.
    expect(server.relay.stats().duplicates).toBeGreaterThanOrEqual(2);
    expect(upstream.requests.length).toBe(before);
  });

  it('a relay that does not answer the query: nothing is sent, the request waits', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const before = server.relay.stats().received;
    const outcome = await resend(stored([score('d1')]), 2000, () => undefined, `http://127.0.0.1:${port}/outbox/receipts`);
    expect(outcome).toMatchObject({ kind: 'retry' });
    expect(server.relay.stats().received).toBe(before);
  });
});

describe("the recovering page's ask", () => {
  it('maps the relay receipts back to record ids, spans by traceId:spanId read from the stored line', async () => {
    const s = span(201);
    await post(server.url, OTLP, otlpBody([s]));
    await post(server.url, INGESTION, ingestionBody([score('p1')]));
    const records: StoredEvent[] = [
      { id: 'p1', type: 'score-create', ts: 1, line: JSON.stringify(score('p1')) },
      { id: 'p2', type: 'score-create', ts: 1, line: JSON.stringify(score('p2')) },
      { id: s.spanId, type: 'span', ts: 1, line: JSON.stringify(s), wire: 'otlp' },
      { id: span(202).spanId, type: 'span', ts: 1, line: JSON.stringify(span(202)), wire: 'otlp' },
      { id: 'broken', type: 'span', ts: 1, line: '{not json', wire: 'otlp' },
    ];
    const taken = await relayReceipts(server.url, auth)(records);
    expect([...(taken ?? [])].sort()).toEqual(['p1', s.spanId].sort());
    // Not a relay: undefined, so the records are resent as before.
    expect(await relayReceipts(upstream.url, auth)(records)).toBeUndefined();
  });
});

describe("the page's resend after a network failure", () => {
  const record = (id: string): StoredEvent => ({ id, type: 'score-create', ts: 1, line: JSON.stringify(score(id)) });
  const batchOf = (ids: string[]): OutgoingBatch => {
    const wire = createIngestionWire({ url: server.url + INGESTION, headers: auth, metadata: {} });
    const body = JSON.stringify(ingestionBody(ids.map((id) => score(id))));
    return { batchId: ids.join(), wire, events: ids.map(record), body, bytes: body.length };
  };
  /** A page transport whose fetch can lose the answer of a request that did arrive (`lose`) or fail before sending (`down`). */
  function transport(receiptsAt: string | undefined) {
    const mode = { lose: false, down: false };
    const fetch = (async (url: string, init: RequestInit) => {
      if (mode.down) throw new TypeError('Failed to fetch');
      const response = await globalThis.fetch(url, init);
      if (mode.lose) {
        await response.arrayBuffer();
        throw new TypeError('Failed to fetch'); // the request arrived; its answer did not
      }
      return response;
    }) as typeof globalThis.fetch;
    const t = createPageTransport(
      { requestTimeoutMs: 5000, compression: 'none' },
      { budget: createKeepaliveBudget(), fetch, reachability: createReachability(() => true), nextHide: async () => 'stays', receipts: receiptsAt ? relayReceipts(receiptsAt, auth) : undefined },
    );
    return { t, mode };
  }

  it('a batch whose answer was lost is acknowledged from the receipts, not sent again', async () => {
    const { t, mode } = transport(server.url);
    mode.lose = true;
    expect(await t.send(batchOf(['t1', 't2']))).toMatchObject({ kind: 'retry', network: true });
    mode.lose = false;
    const received = server.relay.stats().received;
    expect(await t.send(batchOf(['t1', 't2']))).toEqual({ kind: 'ok' });
    expect(server.relay.stats().received).toBe(received); // asked, not sent
    expect(upstream.copies().get('t1')).toBe(1);
  });

  it('only the records the relay did not take are retried; without the relay option the batch is sent again whole', async () => {
    const { t, mode } = transport(server.url);
    mode.down = true;
    expect(await t.send(batchOf(['u1', 'u2']))).toMatchObject({ kind: 'retry' });
    mode.down = false;
    await post(server.url, INGESTION, ingestionBody([score('u1')])); // u1 reached the relay some other way
    expect(await t.send(batchOf(['u1', 'u2']))).toEqual({ kind: 'partial', retry: ['u2'], rejected: [] });

    const plain = transport(undefined);
    plain.mode.lose = true;
    await plain.t.send(batchOf(['v1']));
    plain.mode.lose = false;
    const received = server.relay.stats().received;
    expect(await plain.t.send(batchOf(['v1']))).toEqual({ kind: 'ok' });
    expect(server.relay.stats().received).toBe(received + 1); // sent again (the relay's dedup answered it)
  });

  it('a relay that does not answer the query: no resend now, the records stay of unknown fate', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const { t, mode } = transport(`http://127.0.0.1:${port}`);
    mode.lose = true;
    await t.send(batchOf(['x1']));
    mode.lose = false;
    const received = server.relay.stats().received;
    expect(await t.send(batchOf(['x1']))).toMatchObject({ kind: 'retry', network: true });
    expect(await t.send(batchOf(['x1']))).toMatchObject({ kind: 'retry', network: true });
    expect(server.relay.stats().received).toBe(received);
  });
});

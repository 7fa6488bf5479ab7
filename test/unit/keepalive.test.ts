import { describe, expect, it } from 'vitest';
import { createPageTransport } from '../../src/platform/page-transport';
import { createReachability } from '../../src/transport/reachability';
import { KEEPALIVE_BUDGET_BYTES, UNLOAD_RESERVE_BYTES, createKeepaliveBudget } from '../../src/transport/keepalive-budget';
import { createIngestionWire } from '../../src/wire/ingestion';
import type { OutgoingBatch } from '../../src/core/types';

const wire = createIngestionWire({ url: 'http://collector.test/api/public/ingestion', headers: { Authorization: 'Bearer pk' }, metadata: {} });
const batch = (bytes: number): OutgoingBatch => ({ batchId: 'b', wire, events: [], body: 'x'.repeat(bytes), bytes });

describe('normal sends with keepalive (page transport)', () => {
  it('sets keepalive when the body fits the budget minus the unload reserve, and frees it when the answer came', async () => {
    const budget = createKeepaliveBudget();
    const seen: { keepalive?: boolean; inflight: number }[] = [];
    let answer!: () => void;
    const fetch = (async (_url: string, init: RequestInit) => {
      seen.push({ keepalive: init.keepalive, inflight: budget.inflight() });
      await new Promise<void>((r) => (answer = r));
      return new Response(null, { status: 200 });
    }) as typeof globalThis.fetch;
    const t = createPageTransport({ requestTimeoutMs: 1000, compression: 'none' }, { budget, fetch, reachability: createReachability(() => true) });
    const small = t.send(batch(20_000));
    await Promise.resolve();
    expect(seen[0]).toEqual({ keepalive: true, inflight: 20_000 });
    answer();
    await expect(small).resolves.toEqual({ kind: 'ok' });
    expect(budget.inflight()).toBe(0);
    // Over what normal sends may hold: a plain fetch (it may be lost at unload; its records are still stored).
    const large = t.send(batch(KEEPALIVE_BUDGET_BYTES - UNLOAD_RESERVE_BYTES + 1));
    await Promise.resolve();
    expect(seen[1]).toEqual({ keepalive: undefined, inflight: 0 });
    answer();
    await large;
  });

  it('notes network errors for the unload path, and a later answer clears them', async () => {
    const reachability = createReachability(() => true);
    let fail = true;
    const fetch = (async () => {
      if (fail) throw new TypeError('Failed to fetch');
      return new Response(null, { status: 200 });
    }) as typeof globalThis.fetch;
    const t = createPageTransport({ requestTimeoutMs: 1000, compression: 'none' }, { budget: createKeepaliveBudget(), fetch, reachability, nextHide: async () => 'stays' });
    expect((await t.send(batch(10))).kind).toBe('retry');
    expect(reachability.unreachable()).toBe(true);
    fail = false;
    await t.send(batch(10));
    expect(reachability.unreachable()).toBe(false);
  });

  it('a request failing on the network as the page leaves is never settled (the browser may still deliver it); into the bfcache, settled after the restore', async () => {
    const fetch = (async () => {
      throw new TypeError('Failed to fetch'); // what Chromium does to in-flight fetches when a navigation away starts
    }) as typeof globalThis.fetch;
    const gone = createPageTransport({ requestTimeoutMs: 1000, compression: 'none' }, { budget: createKeepaliveBudget(), fetch, reachability: createReachability(() => true), nextHide: async () => 'gone' });
    let settled = false;
    void gone.send(batch(10)).then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    let restored!: () => void;
    const cached = createPageTransport(
      { requestTimeoutMs: 1000, compression: 'none' },
      { budget: createKeepaliveBudget(), fetch, reachability: createReachability(() => true), nextHide: async () => 'cached', nextRestore: () => new Promise<void>((r) => (restored = r)) },
    );
    const later = cached.send(batch(10));
    await new Promise((r) => setTimeout(r, 20));
    restored();
    expect((await later).kind).toBe('retry');
  });

  it('the budget caps requests as well as bytes', () => {
    const budget = createKeepaliveBudget(65_536, 2);
    const a = budget.reserve(10)!;
    budget.reserve(10);
    expect(budget.reserve(10)).toBeUndefined();
    expect(budget.free()).toBe(0);
    a();
    a(); // idempotent
    expect(budget.free()).toBe(65_526);
  });
});

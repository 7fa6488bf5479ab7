import { expect, test } from '@playwright/test';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { BUNDLE, boot, expectDelivered, staticDirs, storedCount, track } from './fixtures/durable-helpers';

// IndexedDB cost: Outbox writes with relaxed durability (it differs from strict only on an OS crash or power
// loss, platform-facts §4), and at most one transaction per answered request (removals of answers that arrive
// in the same task share one). A micro-benchmark prints strict vs relaxed on this machine.

let collector: Collector;

test.beforeAll(async () => {
  collector = await startCollector({ staticDirs });
});
test.afterAll(() => collector.close());
test.beforeEach(() => collector.reset());

test('micro-benchmark: one-segment readwrite transactions, strict vs relaxed (median of 5 rounds of 100)', async ({ page }) => {
  await page.goto(`${collector.url}/fixtures/blank.html`);
  const result = await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open('bench-durability');
      r.onupgradeneeded = () => r.result.createObjectStore('s');
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const segment = { owner: 'bench', events: Array.from({ length: 15 }, (_, i) => ({ id: `e${i}`, type: 'event-create', ts: Date.now(), line: 'x'.repeat(300) })) };
    const round = async (durability: IDBTransactionDurability) => {
      const t0 = performance.now();
      for (let i = 0; i < 100; i++) {
        await new Promise<void>((resolve, reject) => {
          const tx = db.transaction('s', 'readwrite', { durability });
          tx.objectStore('s').put(segment, `k${i}`);
          tx.oncomplete = () => resolve();
          tx.onerror = () => reject(tx.error);
        });
      }
      return (performance.now() - t0) / 100;
    };
    await round('strict'); // warm-up: the first transactions of a new database cost more either way
    await round('relaxed');
    const times: Record<string, number[]> = { strict: [], relaxed: [] };
    for (let r = 0; r < 5; r++) for (const d of ['strict', 'relaxed'] as const) times[d]!.push(await round(d));
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    db.close();
    return { strict: median(times.strict!), relaxed: median(times.relaxed!), all: times };
  });
  const line = `strict ${result.strict.toFixed(3)} ms/transaction, relaxed ${result.relaxed.toFixed(3)} ms/transaction (×${(result.strict / result.relaxed).toFixed(1)})`;
  console.log(`[idb-cost] ${line}; rounds ${JSON.stringify(result.all)}`);
  test.info().annotations.push({ type: 'measured', description: line });
  expect(result.relaxed).toBeGreaterThan(0);
});

test("Outbox's own writes: relaxed durability, at most one transaction per answered request, nothing left stored", async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Note the durability of every readwrite transaction on Outbox's database.
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { txDurability: string[] }).txDurability = seen;
    const original = IDBDatabase.prototype.transaction;
    IDBDatabase.prototype.transaction = function (this: IDBDatabase, names: string | string[], mode?: IDBTransactionMode, opts?: IDBTransactionOptions) {
      if (this.name === 'outbox' && mode === 'readwrite') seen.push(opts?.durability ?? 'default');
      return original.call(this, names, mode, opts);
    } as typeof original;
  });
  await page.goto(`${collector.url}/fixtures/blank.html`);
  await boot(page, { flushAt: 50, flushInterval: 0.2 });
  await expect.poll(() => page.evaluate(async () => (await navigator.locks.query()).held?.some((l) => l.name === 'outbox:drain') === false)).toBe(true);
  const before = await page.evaluate(async (bundle) => (await import(bundle)).durableStorageOf((window as any).outbox).transactions as number, BUNDLE);
  await track(page, 'cost', 600); // one task: one append, then 12 requests of 50
  await expectDelivered(collector, 'cost', 600);
  await expect.poll(() => storedCount(page)).toBe(0);
  const after = await page.evaluate(async (bundle) => (await import(bundle)).durableStorageOf((window as any).outbox).transactions as number, BUNDLE);
  const answered = collector.requests().filter((r) => r.count > 0).length;
  const durabilities = await page.evaluate(() => (window as unknown as { txDurability: string[] }).txDurability);
  const line = `${after - before} readwrite transaction(s) for 1 append + ${answered} answered request(s); durability ${[...new Set(durabilities)].join('/')}`;
  console.log(`[idb-cost] ${line}`);
  test.info().annotations.push({ type: 'measured', description: line });
  expect(after - before).toBeLessThanOrEqual(1 + answered);
  expect(new Set(durabilities)).toEqual(new Set(['relaxed']));
  expect(errors).toEqual([]);
});

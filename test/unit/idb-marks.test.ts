// The pagehide marks (markSent) are issued in a transaction started at once, even while another write of the same
// store runs: a mark queued behind that write can miss the document's end, and the next load then resends at once.
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { beforeEach, expect, it } from 'vitest';
import { createIndexedDbStorage, SENT_GRACE_MS } from '../../src/storage/indexeddb';
import { ev } from '../helpers/storage-contract';

const T0 = 1_750_000_000_000;

beforeEach(() => {
  globalThis.indexedDB = new IDBFactory();
});

it('markSent while a write-ahead write runs starts its own transaction synchronously, and the marks hold at recovery', async () => {
  const live = new Set(['a', 'b']);
  const liveOwners = async () => new Set(live);
  const now = () => T0;
  const a = createIndexedDbStorage({ owner: 'a', now, removeDelayMs: 5, liveOwners });
  const first = [ev(T0 + 1), ev(T0 + 2)];
  await a.append(first);
  const before = a.transactions;
  const running = a.append([ev(T0 + 3)]);
  await expect.poll(() => a.transactions).toBe(before + 1); // the append's transaction is under way
  a.markSent!(first.map((e) => e.id), T0).catch(() => undefined);
  // Started in this task, not after the running write (the old behaviour left it for a later microtask).
  expect(a.transactions).toBe(before + 2);
  await running;
  live.delete('a'); // a is gone without closing (a crash after pagehide's marks)
  const b = createIndexedDbStorage({ owner: 'b', now, removeDelayMs: 5, liveOwners });
  const recovered = await b.recover();
  expect(recovered.map((e) => e.ts)).toEqual([T0 + 3]); // the marked two wait out the grace
  expect(SENT_GRACE_MS).toBeGreaterThan(0);
  await b.close();
});

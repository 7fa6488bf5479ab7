// The unload path's sent-marks (markSent): a synchronous note in localStorage (sent-notes), read by recovery; without
// one, a transaction started at once, even while another write of the same store runs: a mark queued behind that
// write can miss the document's end, and the next load then resends at once.
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIndexedDbStorage, SENT_GRACE_MS } from '../../src/storage/indexeddb';
import { ANSWERED, SENT_PREFIX, sentNotes } from '../../src/storage/sent-notes';
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

// ---- sent-notes (storage/sent-notes.ts): the marks in localStorage, written synchronously ----

/** localStorage as a Map, installed on globalThis for the real sentNotes (Node has none); `full` refuses writes. */
function installLocalStorage(): { map: Map<string, string>; full: boolean } {
  const state = { map: new Map<string, string>(), full: false };
  const ls = {
    get length() {
      return state.map.size;
    },
    key: (i: number) => [...state.map.keys()][i] ?? null,
    getItem: (k: string) => state.map.get(k) ?? null,
    setItem(k: string, v: string) {
      if (state.full) throw new DOMException('quota', 'QuotaExceededError');
      state.map.set(k, String(v));
    },
    removeItem: (k: string) => void state.map.delete(k),
  };
  (globalThis as { localStorage?: unknown }).localStorage = ls;
  return state;
}

/** Puts raw segments, as any earlier version of the store wrote them. */
function putRaw(dbName: string, entries: [string, unknown][]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const o = indexedDB.open(dbName);
    o.onupgradeneeded = () => o.result.createObjectStore('segments');
    o.onsuccess = () => {
      const tx = o.result.transaction('segments', 'readwrite');
      for (const [key, value] of entries) tx.objectStore('segments').put(value, key);
      tx.oncomplete = () => (o.result.close(), resolve());
      tx.onerror = () => reject(tx.error);
    };
  });
}

describe('sent-notes', () => {
  let ls: ReturnType<typeof installLocalStorage>;
  beforeEach(() => {
    ls = installLocalStorage();
  });
  afterEach(() => {
    delete (globalThis as { localStorage?: unknown }).localStorage;
  });

  it('markSent writes a note synchronously and no IndexedDB transaction; a recovering client withholds those records for the grace, sends the rest, and drops the note', async () => {
    let t = T0;
    const now = () => t;
    const live = new Set(['a', 'b']);
    const liveOwners = async () => new Set(live);
    const a = createIndexedDbStorage({ owner: 'a', now, liveOwners, sentNotes });
    const batch = [ev(T0 + 1), ev(T0 + 2), ev(T0 + 3)];
    await a.append(batch);
    await a.flushWrites();
    const before = a.transactions;
    const marking = a.markSent!([batch[0]!.id, batch[1]!.id], T0);
    // Stored before the call returns: nothing left for a document that ends now.
    expect(JSON.parse(ls.map.get(`${SENT_PREFIX}a`)!)).toEqual([
      [batch[0]!.id, T0],
      [batch[1]!.id, T0],
    ]);
    await marking;
    await new Promise((r) => setTimeout(r, 10));
    expect(a.transactions).toBe(before); // no rewrite of the 3-record segment
    live.delete('a'); // gone without closing

    const b = createIndexedDbStorage({ owner: 'b', now, liveOwners, sentNotes });
    expect((await b.recover()).map((e) => e.id)).toEqual([batch[2]!.id]);
    expect(b.nextRecoveryAt()).toBe(T0 + SENT_GRACE_MS);
    expect(ls.map.has(`${SENT_PREFIX}a`)).toBe(false); // its marks now live in the segment left behind
    t = T0 + SENT_GRACE_MS - 1;
    expect(await b.recover()).toEqual([]); // the marks held without the note
    t = T0 + SENT_GRACE_MS;
    expect((await b.recover()).map((e) => e.id)).toEqual([batch[0]!.id, batch[1]!.id]); // after the grace: none lost
    await b.close();
  });

  it('a live or parked owner keeps its note; a gone owner with nothing stored loses it; an unreadable note is dropped, never thrown', async () => {
    const now = () => T0;
    const a = createIndexedDbStorage({ owner: 'a', now, liveOwners: async () => new Set(['a', 'b']), sentNotes });
    const e = ev(T0);
    await a.append([e]);
    await a.markSent!([e.id], T0);
    ls.map.set(`${SENT_PREFIX}gone`, JSON.stringify([['x', T0]]));
    ls.map.set(`${SENT_PREFIX}parked`, JSON.stringify([['y', T0]]));
    ls.map.set(`${SENT_PREFIX}garbage`, '[1, null');
    ls.map.set(`${SENT_PREFIX}odd`, JSON.stringify([5, 'ab', [null, 'x']]));
    const b = createIndexedDbStorage({
      owner: 'b',
      now,
      liveOwners: async () => new Set(['a', 'b']),
      parkNotes: () => [{ owner: 'parked', at: T0 }],
      sentNotes,
    });
    expect(await b.recover()).toEqual([]); // a is alive: its record is its own to send
    expect([...ls.map.keys()].sort()).toEqual([`${SENT_PREFIX}a`, `${SENT_PREFIX}parked`]);
    await a.close();
    await b.close();
  });

  it('remove() of every marked record drops the owner\'s note; a refused note falls back to the IndexedDB mark', async () => {
    const now = () => T0;
    const live = new Set(['a', 'b']);
    const liveOwners = async () => new Set(live);
    const a = createIndexedDbStorage({ owner: 'a', now, liveOwners, sentNotes });
    const batch = [ev(T0 + 1), ev(T0 + 2), ev(T0 + 3)];
    await a.append(batch);
    await a.markSent!([batch[0]!.id, batch[1]!.id], T0);
    await a.remove([batch[0]!.id]);
    expect(ls.map.has(`${SENT_PREFIX}a`)).toBe(true);
    await a.remove([batch[1]!.id]);
    expect(ls.map.has(`${SENT_PREFIX}a`)).toBe(false);

    ls.full = true; // localStorage refuses the note (quota): the segment is rewritten in IndexedDB, as before notes
    const before = a.transactions;
    await a.markSent!([batch[2]!.id], T0);
    expect(a.transactions).toBeGreaterThan(before);
    expect(ls.map.size).toBe(0);
    live.delete('a');
    const b = createIndexedDbStorage({ owner: 'b', now, liveOwners, sentNotes });
    expect(await b.recover()).toEqual([]); // withheld by the sentAt in the segment
    expect(b.nextRecoveryAt()).toBe(T0 + SENT_GRACE_MS);
    await b.close();
  });

  it('a marked record answered as the page leaves is noted as answered at once: gone before its removal commits, the next load drops it instead of resending', async () => {
    // Firefox, 2000 events then leaving (unload-leave.spec.ts): a keepalive sent at beforeunload was answered before
    // pagehide, its removal had not committed when the document went, and the next load resent its 222 records.
    let t = T0;
    const now = () => t;
    const live = new Set(['a', 'b']);
    const liveOwners = async () => new Set(live);
    // Removals written only after 60 s: the document is gone long before.
    const a = createIndexedDbStorage({ owner: 'a', now, liveOwners, sentNotes, removeDelayMs: 60_000 });
    const batch = [ev(T0 + 1), ev(T0 + 2), ev(T0 + 3)];
    await a.append(batch);
    await a.markSent!([batch[0]!.id, batch[1]!.id], T0);
    void a.remove([batch[0]!.id]); // its answer: the removal waits for its write
    expect(JSON.parse(ls.map.get(`${SENT_PREFIX}a`)!)).toEqual([
      [batch[0]!.id, ANSWERED],
      [batch[1]!.id, T0],
    ]);
    live.delete('a'); // gone without its removal written
    const b = createIndexedDbStorage({ owner: 'b', now, liveOwners, sentNotes });
    expect((await b.recover()).map((e) => e.id)).toEqual([batch[2]!.id]);
    t = T0 + SENT_GRACE_MS;
    expect((await b.recover()).map((e) => e.id)).toEqual([batch[1]!.id]); // the unanswered one after the grace; never batch[0]
    expect(await b.recover()).toEqual([]);
    await b.close();
  });

  it('an answered mark leaves the note once its removal has committed', async () => {
    const now = () => T0;
    const a = createIndexedDbStorage({ owner: 'a', now, liveOwners: async () => new Set(['a']), sentNotes });
    const batch = [ev(T0 + 1), ev(T0 + 2)];
    await a.append(batch);
    await a.markSent!(batch.map((e) => e.id), T0);
    const removing = a.remove([batch[0]!.id]);
    expect(JSON.parse(ls.map.get(`${SENT_PREFIX}a`)!)).toEqual([
      [batch[0]!.id, ANSWERED],
      [batch[1]!.id, T0],
    ]);
    await removing;
    expect(JSON.parse(ls.map.get(`${SENT_PREFIX}a`)!)).toEqual([[batch[1]!.id, T0]]);
    await a.remove([batch[1]!.id]);
    expect(ls.map.has(`${SENT_PREFIX}a`)).toBe(false);
    await a.close();
  });

  it('segments of the layout before notes (sentAt in the records) are read as before, with a note applied on top', async () => {
    // What the previous version left in a user's IndexedDB: one segment, one record marked in it.
    const [old1, old2, old3] = [ev(T0 + 1), ev(T0 + 2), ev(T0 + 3)];
    await putRaw('outbox', [['s:000000001-old-0', { owner: 'old', events: [{ ...old1, sentAt: T0 }, old2, old3] }]]);
    ls.map.set(`${SENT_PREFIX}old`, JSON.stringify([[old3.id, T0 + 10]]));
    let t = T0 + 100;
    const now = () => t;
    const b = createIndexedDbStorage({ owner: 'b', now, liveOwners: async () => new Set(['b']), sentNotes });
    expect((await b.recover()).map((e) => e.id)).toEqual([old2.id]);
    expect(b.nextRecoveryAt()).toBe(T0 + SENT_GRACE_MS);
    t = T0 + SENT_GRACE_MS + 10;
    const rest = await b.recover();
    expect(rest.map((e) => e.id)).toEqual([old1.id, old3.id]);
    expect(rest.every((e) => !('sentAt' in e))).toBe(true); // handed to the client as plain records
    await b.close();
  });
});

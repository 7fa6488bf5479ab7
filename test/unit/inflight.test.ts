// The in-flight notes of a page without a service worker (src/platform/inflight.ts), and how IndexedDB recovery
// honours them: a noted record of a gone owner is adopted only once the grace counted from its note is over.
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { noteSending, inflightNotes } from '../../src/platform/inflight';
import { createIndexedDbStorage } from '../../src/storage/indexeddb';
import { ev } from '../helpers/storage-contract';

const T0 = 1_750_000_000_000;
let ls: Map<string, string>;

beforeEach(() => {
  ls = new Map();
  // A Map behind the Web Storage interface (Node 20 has no localStorage); its keys are its own enumerable
  // properties, as a browser's Storage exposes them to Object.keys.
  (globalThis as any).localStorage = new Proxy(
    {
      getItem: (k: string) => ls.get(k) ?? null,
      setItem: (k: string, v: string) => void ls.set(k, v),
      removeItem: (k: string) => void ls.delete(k),
    },
    {
      ownKeys: () => [...ls.keys()],
      getOwnPropertyDescriptor: (_, k) => (ls.has(String(k)) ? { value: ls.get(String(k)), enumerable: true, configurable: true } : undefined),
    },
  );
  globalThis.indexedDB = new IDBFactory();
});
afterEach(() => {
  delete (globalThis as any).localStorage;
});

it('a note holds its ids until the send ends; stale and malformed notes are removed by the reader', () => {
  const done = noteSending(['a', 'b'], T0);
  noteSending(['c'], T0 - 10_000); // a document that crashed long ago
  ls.set('outbox:inflight:junk', '{');
  expect(inflightNotes(5000, T0 + 100)).toEqual(new Map([['a', T0], ['b', T0]]));
  expect(ls.size).toBe(1);
  done();
  expect(ls.size).toBe(0);
  expect(inflightNotes(5000, T0 + 100).size).toBe(0);
});

it('without localStorage nothing is noted and nothing throws', () => {
  delete (globalThis as any).localStorage;
  expect(() => noteSending(['a'])()).not.toThrow();
  expect(inflightNotes(5000).size).toBe(0);
});

it('recovery adopts a gone owner\'s noted records only after the grace, the others at once', async () => {
  let t = T0;
  const now = () => t;
  const live = new Set(['a', 'b']);
  const liveOwners = async () => new Set(live);
  const a = createIndexedDbStorage({ owner: 'a', now, liveOwners, removeDelayMs: 5 });
  const records = [ev(T0 + 1), ev(T0 + 2), ev(T0 + 3)];
  await a.append(records);
  noteSending([records[0]!.id, records[1]!.id], T0); // in a request when `a` crashed
  live.delete('a');
  const b = createIndexedDbStorage({ owner: 'b', now, liveOwners, graceMs: 5000, inflightNotes: () => inflightNotes(5000, t) });
  t = T0 + 1000;
  expect((await b.recover()).map((e) => e.ts)).toEqual([T0 + 3]);
  expect(b.nextRecoveryAt()).toBe(T0 + 5000);
  t = T0 + 5001;
  expect((await b.recover()).map((e) => e.ts)).toEqual([T0 + 1, T0 + 2]);
  expect(ls.size).toBe(0); // the stale note went with that pass
  await b.close();
});

import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { beforeEach, describe, expect, it } from 'vitest';
import { createMemoryStorage } from '../../src/storage/memory';
import { createIndexedDbStorage, HEARTBEAT_STALE_MS, SENT_GRACE_MS } from '../../src/storage/indexeddb';
import { storageContract, ev, type ContractSubject } from '../helpers/storage-contract';

/** One Map seen by every run: the memory store has no owners, so a "new run" is the same instance. */
function memorySubject(): ContractSubject {
  const store = createMemoryStorage();
  return { open: async () => store, now: Date.now, features: {} };
}

/**
 * fake-indexeddb, one fresh IDBFactory per case (platform-facts §4), with a registry standing in for Web Locks:
 * a run is alive from open() until close().
 */
function indexedDbSubject(mode: 'locks' | 'heartbeat'): ContractSubject {
  let offset = 0;
  const now = () => Date.now() + offset;
  const live = new Set<string>();
  let n = 0;
  return {
    now,
    advance: (ms) => void (offset += ms),
    features: { ownership: true, markSent: { graceMs: SENT_GRACE_MS }, limit: true, transactions: true },
    async open() {
      const owner = `run${++n}`;
      live.add(owner);
      const storage = createIndexedDbStorage({
        owner,
        now,
        removeDelayMs: 5,
        liveOwners: mode === 'locks' ? async () => new Set(live) : undefined,
      });
      const close = storage.close;
      storage.close = async () => {
        await close();
        live.delete(owner);
        // Without locks a closed run deletes its heartbeat; a crashed one is covered below.
      };
      return storage;
    },
  };
}

describe('storage contract: memory', () => {
  for (const c of storageContract) {
    const subject = memorySubject();
    it.skipIf(c.needs !== undefined && !subject.features[c.needs])(c.name, () => c.run(subject));
  }
});

for (const mode of ['locks', 'heartbeat'] as const) {
  describe(`storage contract: IndexedDB (fake-indexeddb, ${mode})`, () => {
    beforeEach(() => {
      globalThis.indexedDB = new IDBFactory();
    });
    for (const c of storageContract) it(c.name, () => c.run(indexedDbSubject(mode)));
  });
}

describe('IndexedDB storage (fake-indexeddb)', () => {
  beforeEach(() => {
    globalThis.indexedDB = new IDBFactory();
  });

  it('without Web Locks, a crashed owner (no clean close) is adopted only once its heartbeat is stale', async () => {
    let offset = 0;
    const now = () => Date.now() + offset;
    const a = createIndexedDbStorage({ owner: 'a', now });
    const e = [ev(1), ev(2)];
    await a.append(e);
    // a "crashes": never closed, its heartbeat stays.
    const b = createIndexedDbStorage({ owner: 'b', now });
    expect(await b.recover()).toEqual([]);
    offset += HEARTBEAT_STALE_MS + 1;
    expect((await b.recover()).map((x) => x.id)).toEqual(e.map((x) => x.id));
    await b.close();
  });

  it('coalesces removes of one task into one transaction, and an append and its removes into few', async () => {
    const a = createIndexedDbStorage({ owner: 'a', liveOwners: async () => new Set(['a']), removeDelayMs: 5 });
    const burst = Array.from({ length: 1000 }, (_, i) => ev(i));
    await a.append(burst);
    expect(a.transactions).toBe(1);
    const removes: Promise<void>[] = [];
    for (let i = 0; i < 1000; i += 10) removes.push(a.remove(burst.slice(i, i + 10).map((x) => x.id)));
    await Promise.all(removes);
    expect(a.transactions).toBe(2);
    expect(a.size()).toBe(0);
    await a.close();
  });

  it('never throws when indexedDB.open throws: the first failure rejects, later ones are counted, and the store says it is not durable', async () => {
    globalThis.indexedDB = { open: () => { throw new DOMException('no IndexedDB here', 'InvalidStateError'); } } as unknown as IDBFactory;
    const a = createIndexedDbStorage({ owner: 'a', liveOwners: async () => new Set(['a']) });
    expect(a.durable).toBe(true);
    await expect(a.append([ev(1)])).rejects.toThrow(/no IndexedDB here/);
    expect(a.durable).toBe(false);
    expect(a.volatileCount()).toBe(1);
    await expect(a.append([ev(2)])).resolves.toBeUndefined(); // same streak: counted, not reported again
    expect(a.faults).toBe(2);
    await expect(a.recover()).rejects.toThrow(/no IndexedDB here/);
    await a.close().catch(() => undefined);
  });

  it('durability is precise: after a failed write it comes back once the failed records are written', async () => {
    const a = createIndexedDbStorage({ owner: 'a', liveOwners: async () => new Set(['a']) });
    const first = ev(0);
    await a.append([first]);
    const big = ev(1);
    // The origin is full for the segment holding `big` (once): its put throws as Chromium's does over the quota.
    const proto = (globalThis as unknown as { IDBObjectStore: { prototype: IDBObjectStore } }).IDBObjectStore.prototype;
    const put = proto.put;
    let refuse = 1;
    proto.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      const holdsBig = (value as { events?: { id: string }[] })?.events?.some((e) => e.id === big.id);
      if (holdsBig && refuse-- > 0) throw new DOMException('quota exceeded', 'QuotaExceededError');
      return put.call(this, value, key);
    };
    try {
      await expect(a.append([big])).rejects.toThrow(/quota exceeded/);
      expect(a.durableNow()).toBe(false);
      expect(a.volatileCount()).toBe(1);
      expect(a.isCommitted(big.id)).toBe(false);
      expect(a.isCommitted(first.id)).toBe(true); // what was committed before stays durable
      await a.append([ev(2)]); // the streak ends with this write…
      await a.append([ev(3)]); // …and the failed segment goes with the next one
      expect(a.durableNow()).toBe(true);
      expect(a.isCommitted(big.id)).toBe(true);
      expect(a.volatileCount()).toBe(0);
    } finally {
      proto.put = put;
      await a.close();
    }
  });

  it('a versionchange from another tab: our connection gives way, is reported, and our records are rewritten (even after a delete)', async () => {
    const faults: string[] = [];
    const a = createIndexedDbStorage({ owner: 'a', dbName: 'del', liveOwners: async () => new Set(['a']), onFault: (e) => faults.push(e.message) });
    const both = [ev(1), ev(2)];
    await a.append(both);
    await new Promise<void>((resolve, reject) => {
      const r = indexedDB.deleteDatabase('del');
      r.onsuccess = () => resolve();
      r.onerror = () => reject(r.error);
      r.onblocked = () => reject(new Error('blocked: our connection did not close on versionchange'));
    });
    expect(faults.some((m) => /"del" was deleted by another tab; this tab closed its connection and rewrites its 2 stored record/.test(m))).toBe(true);
    await a.flushWrites();
    await new Promise((r) => setTimeout(r, 20));
    await a.close();
    const b = createIndexedDbStorage({ owner: 'b', dbName: 'del', liveOwners: async () => new Set(['b']) });
    expect((await b.recover()).map((e) => e.id).sort()).toEqual(both.map((e) => e.id).sort());
    await b.close();
  });

  it('unreadable stored records are removed and reported, the readable ones recovered', async () => {
    const faults: string[] = [];
    const a = createIndexedDbStorage({ owner: 'a', dbName: 'bad', liveOwners: async () => new Set(['a']) });
    const good = ev(1);
    const alsoGood = ev(7);
    await a.append([good]);
    await a.close();
    await new Promise<void>((resolve) => {
      const o = indexedDB.open('bad');
      o.onsuccess = () => {
        const tx = o.result.transaction('segments', 'readwrite');
        const store = tx.objectStore('segments');
        store.put({ owner: 'gone', events: [{ id: 'x' }, null, { ...alsoGood }] }, 's:000000001-gone-0');
        store.put('not a segment', 's:000000002-gone-1');
        tx.oncomplete = () => (o.result.close(), resolve());
      };
    });
    const b = createIndexedDbStorage({ owner: 'b', dbName: 'bad', liveOwners: async () => new Set(['b']), onFault: (e) => faults.push(e.message) });
    expect((await b.recover()).map((e) => e.id).sort()).toEqual([good.id, alsoGood.id].sort());
    expect(faults).toEqual([expect.stringMatching(/3 stored record\(s\) could not be read and were removed/)]);
    expect(await b.recover()).toEqual([]);
    await b.close();
  });

  it('an open that never answers fails after timeoutMs, is retried by the next operation, and never hangs the store', async () => {
    globalThis.indexedDB = { open: () => ({}) } as unknown as IDBFactory; // a request whose events never fire
    const a = createIndexedDbStorage({ owner: 'a', liveOwners: async () => new Set(['a']), timeoutMs: 30 });
    await expect(a.append([ev(1)])).rejects.toThrow(/did not answer within 30 ms/);
    expect(a.durableNow()).toBe(false);
    await expect(a.recover()).rejects.toThrow(/did not answer within 30 ms/);
    await a.close().catch(() => undefined);
  });

  it('a parked owner (back/forward cache) keeps its segments from adoption until its mark is stale', async () => {
    let offset = 0;
    const now = () => Date.now() + offset;
    const a = createIndexedDbStorage({ owner: 'a', dbName: 'park', now, liveOwners: async () => new Set(['b']), parkMs: 1000 });
    const parked = ev(1);
    await a.append([parked]);
    a.park();
    const b = createIndexedDbStorage({ owner: 'b', dbName: 'park', now, liveOwners: async () => new Set(['b']), parkMs: 1000 });
    expect(await b.recover()).toEqual([]);
    expect(b.nextRecoveryAt()).toBeGreaterThan(now());
    expect(b.liveOwnersSeen()).toEqual([]); // not watched: it holds no lock while cached
    a.unpark();
    await a.flushWrites();
    a.park();
    offset += 1001;
    expect((await b.recover()).map((e) => e.id)).toEqual([parked.id]);
    await b.close();
  });

  it('a park note kept outside IndexedDB (WebKit: localStorage) keeps the segments from adoption like a park mark', async () => {
    let offset = 0;
    const now = () => Date.now() + offset;
    const notes: { owner: string; at: number }[] = [];
    const a = createIndexedDbStorage({ owner: 'a', dbName: 'park-note', now, liveOwners: async () => new Set(['b']), parkMs: 1000 });
    const parked = ev(1);
    await a.append([parked]);
    notes.push({ owner: 'a', at: now() }); // no a.park(): WebKit would not commit it before the page is cached
    const b = createIndexedDbStorage({ owner: 'b', dbName: 'park-note', now, liveOwners: async () => new Set(['b']), parkMs: 1000, parkNotes: () => notes });
    expect(await b.recover()).toEqual([]);
    expect(b.nextRecoveryAt()).toBeGreaterThan(now());
    expect(b.liveOwnersSeen()).toEqual([]); // not watched: it holds no lock while cached
    offset += 1001;
    expect((await b.recover()).map((e) => e.id)).toEqual([parked.id]);
    await b.close();
  });

  it('opens the database again after a versionchange closed it', async () => {
    const a = createIndexedDbStorage({ owner: 'a', dbName: 'vc', liveOwners: async () => new Set(['a']) });
    await a.append([ev(1)]);
    // Another connection upgrades the database: ours must give way, then reopen.
    await new Promise<void>((resolve, reject) => {
      const r = indexedDB.open('vc', 2);
      r.onsuccess = () => (r.result.close(), resolve());
      r.onerror = () => reject(r.error);
      r.onblocked = () => reject(new Error('blocked: our connection did not close on versionchange'));
    });
    const e = ev(2);
    await a.append([e]);
    await a.close();
    const b = createIndexedDbStorage({ owner: 'b', dbName: 'vc', liveOwners: async () => new Set(['b']) });
    expect((await b.recover()).length).toBe(2);
    await b.close();
  });
});

describe('IndexedDB storage: removal coalescing (default delay)', () => {
  beforeEach(() => {
    globalThis.indexedDB = new IDBFactory();
  });

  it('removals of answers in the same task share one transaction; answers in separate tasks cost one each', async () => {
    const a = createIndexedDbStorage({ owner: 'a', liveOwners: async () => new Set(['a']) });
    const burst = Array.from({ length: 90 }, (_, i) => ev(i));
    await a.append(burst);
    const base = a.transactions;
    await Promise.all([a.remove(burst.slice(0, 30).map((e) => e.id)), a.remove(burst.slice(30, 60).map((e) => e.id))]);
    expect(a.transactions - base).toBe(1);
    await a.remove([burst[60]!.id]);
    await new Promise((r) => setTimeout(r, 0));
    await a.remove([burst[61]!.id]);
    expect(a.transactions - base).toBe(3);
    await a.close();
  });
});

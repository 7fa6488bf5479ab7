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

  it('never throws when indexedDB.open throws: every operation rejects, and the store says it is not durable', async () => {
    globalThis.indexedDB = { open: () => { throw new DOMException('no IndexedDB here', 'InvalidStateError'); } } as unknown as IDBFactory;
    const a = createIndexedDbStorage({ owner: 'a', liveOwners: async () => new Set(['a']) });
    expect(a.durable).toBe(true);
    await expect(a.append([ev(1)])).rejects.toThrow(/no IndexedDB here/);
    expect(a.durable).toBe(false);
    await expect(a.recover()).rejects.toThrow(/no IndexedDB here/);
    await a.close();
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

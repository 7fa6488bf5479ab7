// The store's connection and its coalesced writes (see indexeddb.ts): every dirty segment of this owner is written
// (or deleted) in one transaction, with the heartbeat and the park mark riding along.
import { done, openDatabase, withTimeout } from './idb-request';
import { countHeld, type IdbState, type Segment } from './idb-state';
import type { IndexedDbStorageOptions } from './indexeddb';

function resetStore(st: IdbState): void {
  st.dbp = null;
  st.connection = null;
}

function connect(st: IdbState): Promise<IDBDatabase> {
  if (st.dbp) return st.dbp;
  const opening = openDatabase(st.dbId, st.storeId, () => {
    if (st.blockedReported) return;
    st.blockedReported = true;
    st.fault(`IndexedDB "${st.dbId}" open is blocked by another tab's connection; records stay in memory until it closes`);
  }).then((db) => {
    if (st.dbp !== opening) {
      db.close(); // given up on (timeout) meanwhile
      return db;
    }
    st.connection = db;
    // Another connection wants to upgrade or delete the database: let it, then rewrite what is ours (a delete
    // would otherwise take this tab's records with it).
    db.onversionchange = (event) => {
      db.close();
      if (st.connection === db) resetStore(st);
      const held = countHeld(st);
      st.fault(
        `IndexedDB "${st.dbId}" was ${event.newVersion === null ? 'deleted' : `upgraded to version ${event.newVersion}`} by another tab; ` +
          `this tab closed its connection and rewrites its ${held} stored record(s)`,
      );
      for (const key of st.mine.keys()) st.dirty.add(key);
      if (st.mine.size > 0) request(st, false).catch(() => undefined);
    };
    db.onclose = () => {
      if (st.connection === db) resetStore(st); // closed by the browser (storage cleared, Safari's quirks)
    };
    return db;
  });
  st.dbp = opening;
  opening.catch(() => {
    if (st.dbp === opening) resetStore(st);
  });
  return opening;
}

/** One transaction; `fn` must settle when the transaction completes. Rejects on any error or after opTimeout. */
export async function run<T>(st: IdbState, mode: IDBTransactionMode, fn: (store: IDBObjectStore) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const opening = connect(st);
    try {
      const op = opening.then((db) => {
        const tx = mode === 'readwrite' ? db.transaction(st.storeId, mode, { durability: st.txDurability }) : db.transaction(st.storeId, mode);
        if (mode === 'readwrite') st.txCount++;
        return fn(tx.objectStore(st.storeId));
      });
      return await withTimeout(op, st.opTimeout);
    } catch (error) {
      if (st.dbp === opening) resetStore(st); // a hung or broken connection: the next operation opens a new one
      // A connection closed under us (close(), versionchange): open a new one, once.
      if (attempt === 0 && (error as Error)?.name === 'InvalidStateError') continue;
      throw error;
    }
  }
}

/** Asks for a write of every dirty segment; `urgent` in a microtask, else after `removeAfter` ms. */
export function request(st: IdbState, urgent: boolean): Promise<void> {
  if (!st.pendingJob) {
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    st.pendingJob = { promise, resolve, reject, urgent: false };
  }
  st.pendingJob.urgent ||= urgent;
  const p = st.pendingJob.promise;
  arm(st);
  return p;
}

function arm(st: IdbState): void {
  if (!st.pendingJob || st.writing) return;
  if (st.pendingJob.urgent) {
    if (st.writeTimer !== null) clearTimeout(st.writeTimer), (st.writeTimer = null);
    if (!st.microtask) {
      st.microtask = true;
      queueMicrotask(() => write(st));
    }
  } else if (st.writeTimer === null && !st.microtask) {
    st.writeTimer = setTimeout(() => write(st), st.removeAfter);
  }
}

function write(st: IdbState): void {
  st.microtask = false;
  if (st.writeTimer !== null) clearTimeout(st.writeTimer), (st.writeTimer = null);
  if (st.writing || !st.pendingJob) return;
  const job = st.pendingJob;
  st.pendingJob = null;
  st.writing = true;
  // After a failure only new work is tried (a quota failure of an old segment must not sink new ones with it);
  // once a write succeeds, the failed segments go with the next one.
  if (st.streak === 0) for (const key of st.failedKeys) st.dirty.add(key);
  const keys = [...st.dirty];
  st.dirty.clear();
  const unpark = st.parkOp;
  st.parkOp = null;
  if (st.heartbeats && st.heartbeatTimer === null) st.heartbeatTimer = setTimeout(() => beat(st), st.beatEvery);
  const owner = st.ownerId;
  st.whenReady()
    .then(() =>
      run(st, 'readwrite', (store) => {
        try {
          for (const key of keys) {
            const seg = st.mine.get(key);
            if (!seg || seg.size === 0) {
              st.mine.delete(key);
              store.delete(key);
            } else {
              store.put({ owner, events: [...seg.values()] } satisfies Segment, key);
            }
          }
          if (unpark) store.delete(`p:${owner}`);
          if (st.heartbeats) store.put({ owner, at: st.nowFn() }, `h:${owner}`);
        } catch (error) {
          store.transaction.abort(); // all or nothing (a put may throw: DataCloneError, QuotaExceededError)
          throw error;
        }
        const finished = done(store.transaction);
        // Commit now rather than when the renderer next idles: at pagehide the page may not get that chance.
        store.transaction.commit?.();
        return finished;
      }),
    )
    .then(
      () => {
        for (const key of keys) st.uncommitted.delete(key), st.failedKeys.delete(key);
        for (const key of st.failedKeys) if (!st.mine.has(key)) st.failedKeys.delete(key);
        st.streak = 0;
        job.resolve();
      },
      (error) => {
        st.faultCount++;
        st.streak++;
        for (const key of keys) if (st.mine.has(key)) st.failedKeys.add(key);
        if (unpark) st.parkOp ??= unpark;
        // The first failure of a streak is the client's to report; the rest are only counted.
        if (st.streak === 1) job.reject(error);
        else job.resolve();
      },
    )
    .finally(() => {
      st.writing = false;
      arm(st);
    });
}

function beat(st: IdbState): void {
  st.heartbeatTimer = null;
  // Only an owner with segments needs to look alive; a failed heartbeat shows through the next append.
  if (st.heartbeats && st.mine.size > 0) request(st, true).catch(() => undefined);
}

/**
 * Writes every dirty segment in a transaction started now, on the connection already open, even while another
 * write runs: IndexedDB runs overlapping readwrite transactions in the order they were created, so this one lands
 * after it, with the newer contents. For marks that must commit before the document ends (pagehide), which would
 * otherwise wait for the running write to finish first. Without an open connection, an ordinary urgent write.
 */
export function writeNow(st: IdbState): Promise<void> {
  const db = st.connection;
  if (!db || st.dirty.size === 0) return request(st, true);
  const keys = [...st.dirty];
  try {
    const tx = db.transaction(st.storeId, 'readwrite', { durability: st.txDurability });
    st.txCount++;
    const store = tx.objectStore(st.storeId);
    for (const key of keys) {
      const seg = st.mine.get(key);
      if (seg && seg.size > 0) store.put({ owner: st.ownerId, events: [...seg.values()] } satisfies Segment, key);
      else store.delete(key); // the queued write forgets an empty segment (it is dirty, so one is queued)
    }
    tx.commit?.();
    // The keys stay dirty for an ordinary write after it: that one confirms them committed (or retries them).
    request(st, false).catch(() => undefined);
    return done(tx);
  } catch {
    return request(st, true);
  }
}

/** See IndexedDbStorage.park(): a transaction started synchronously, on the connection already open. */
export function park(st: IdbState): void {
  st.parkOp = null;
  const db = st.connection;
  if (!db) return; // never opened: nothing of ours is stored to protect
  try {
    const tx = db.transaction(st.storeId, 'readwrite', { durability: st.txDurability });
    st.txCount++;
    tx.objectStore(st.storeId).put({ owner: st.ownerId, at: st.nowFn() }, `p:${st.ownerId}`);
    done(tx).catch((error) => st.fault(`IndexedDB: marking this tab parked for the back/forward cache failed: ${String(error)}`));
    tx.commit?.();
  } catch (error) {
    st.fault(`IndexedDB: marking this tab parked for the back/forward cache failed: ${String(error)}`);
  }
}

/** See Storage.close(): the last write (failed segments once more), the heartbeat removed, the connection closed. */
export async function close(st: IdbState, opts: IndexedDbStorageOptions): Promise<void> {
  if (st.heartbeatTimer !== null) clearTimeout(st.heartbeatTimer);
  st.heartbeatTimer = null;
  const wasBeating = st.heartbeats;
  st.heartbeats = false;
  try {
    st.streak = 0; // the last chance: failed segments are tried once more
    if (st.dirty.size > 0 || st.pendingJob || st.writing || st.failedKeys.size > 0) await request(st, true);
    // A clean close removes the heartbeat, so another client may adopt what is left at once.
    if (wasBeating) await run(st, 'readwrite', (store) => (store.delete(`h:${st.ownerId}`), done(store.transaction)));
  } finally {
    const db = st.connection;
    resetStore(st);
    db?.close();
    opts.onClosed?.();
  }
}

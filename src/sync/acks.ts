/**
 * Answers the service worker saw for pages that may be gone. A controlled page's request goes through the worker
 * (handoff.ts), and the worker gets the answer even when the page navigated away or crashed before it could: the
 * page then left those records in IndexedDB, and the next load would send them again — a duplicate for every record
 * in flight at a navigation (measured: 30 of 30, each round). So the worker writes here the ids it settled for good
 * (acknowledged by the server, or stored in its own queue), and a load that recovers a gone page's records removes
 * the acknowledged ones instead of resending them.
 *
 * Database `outbox-acks`, store `acks`: event id → epoch ms. Entries are consumed by the load that recovers them;
 * the rest (records the live page settled itself) are swept after {@link ACK_TTL_MS} at each worker start. Every
 * failure here only costs the duplicate it would have saved, never a record.
 */
import { done, req } from '../storage/idb-request';

export const ACKS_DB = 'outbox-acks';
const STORE = 'acks';
/** How long an acknowledgement is kept: far longer than any grace period before a resend. */
export const ACK_TTL_MS = 60 * 60_000;

async function withStore<T>(fn: (store: IDBObjectStore) => Promise<T> | T): Promise<T> {
  const open = indexedDB.open(ACKS_DB, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE);
  const db = await req(open);
  try {
    const tx = db.transaction(STORE, 'readwrite', { durability: 'relaxed' });
    const result = await fn(tx.objectStore(STORE));
    await done(tx);
    return result;
  } finally {
    db.close();
  }
}

/** Records that the worker settled these ids for good (worker side). */
export function writeAcks(ids: readonly string[], at: number): Promise<void> {
  if (ids.length === 0) return Promise.resolve();
  return withStore((store) => {
    for (const id of ids) store.put(at, id);
  });
}

/** Deletes acknowledgements older than the TTL (worker side, at start); the transaction ends with the cursor. */
export function sweepAcks(now: number): Promise<void> {
  return withStore((store) => {
    const cursor = store.openCursor();
    cursor.onsuccess = () => {
      const c = cursor.result;
      if (!c) return;
      if (!(now - c.value <= ACK_TTL_MS)) c.delete();
      c.continue();
    };
  });
}

/** Which of `ids` the worker acknowledged; those acknowledgements are consumed (page side). */
export function takeAcks(ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return Promise.resolve(new Set());
  return withStore(async (store) => {
    const found = await Promise.all(ids.map((id) => req(store.get(id))));
    const acked = new Set<string>();
    ids.forEach((id, i) => {
      if (found[i] === undefined) return;
      acked.add(id);
      store.delete(id);
    });
    return acked;
  });
}

/**
 * Answers the service worker saw for pages that may be gone. A controlled page's request goes through the worker
 * (sync/handoff.ts), and the worker gets the answer even when the page navigated away or crashed before it could: the
 * page then left those records in IndexedDB, and the next load would send them again — a duplicate for every record
 * in flight at a navigation (measured: 30 of 30, each round). So the worker writes here the ids it settled for good
 * (acknowledged by the server, or stored in its own queue), and a load that recovers a gone page's records removes
 * the acknowledged ones instead of resending them.
 *
 * Database `outbox-acks`, store `acks`: event id → epoch ms. Entries are consumed by the load that recovers them;
 * the rest (records the live page settled itself) are swept after {@link ACK_TTL_MS} at each worker start. Every
 * failure here only costs the duplicate it would have saved, never a record.
 */
import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';

export const ACKS_DB = 'outbox-acks';
const STORE = 'acks';
/** How long an acknowledgement is kept: far longer than any grace period before a resend. */
export const ACK_TTL_MS = 60 * 60_000;

let acks: UseStore | undefined;
/** idb-keyval's store function over `outbox-acks`/`acks`: one transaction per call, the connection kept open. */
const withStore: UseStore = (mode, fn) => (acks ??= createStore(ACKS_DB, STORE))(mode, fn);

/** Records that the worker settled these ids for good (worker side). */
export function writeAcks(ids: readonly string[], at: number): Promise<void> {
  if (ids.length === 0) return Promise.resolve();
  return withStore('readwrite', (store) => {
    for (const id of ids) store.put(at, id);
    return promisifyRequest(store.transaction);
  });
}

/** Deletes acknowledgements older than the TTL (worker side, at start); the transaction ends with the cursor. */
export function sweepAcks(now: number): Promise<void> {
  return withStore('readwrite', (store) => {
    const cursor = store.openCursor();
    cursor.onsuccess = () => {
      const c = cursor.result;
      if (!c) return;
      if (!(now - c.value <= ACK_TTL_MS)) c.delete();
      c.continue();
    };
    return promisifyRequest(store.transaction);
  });
}

/** Which of `ids` the worker acknowledged; those acknowledgements are consumed (page side). */
export function takeAcks(ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return Promise.resolve(new Set());
  return withStore('readwrite', async (store) => {
    const found = await Promise.all(ids.map((id) => promisifyRequest(store.get(id))));
    const acked = new Set<string>();
    ids.forEach((id, i) => {
      if (found[i] === undefined) return;
      acked.add(id);
      store.delete(id);
    });
    await promisifyRequest(store.transaction);
    return acked;
  });
}

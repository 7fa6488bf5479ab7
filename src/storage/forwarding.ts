/**
 * What the service worker started forwarding, for the worker that comes after it. Chromium dispatches a fetch event
 * again to a new worker when the one handling it stopped before answering (its renderer crashed, the browser stopped
 * it): the page's request is forwarded a second time, although the first may have arrived (seen in the chaos soak and
 * in test/e2e/receipts.spec.ts: one page request, two arrivals through the worker 140 ms apart). With the relay's
 * receipts (sync/handoff.ts), a worker asks the relay about ids an earlier worker of the scope was forwarding before
 * it sends them on.
 *
 * Database `outbox-forwarding`, store `ids`: event id → epoch ms, written as a forward starts (not awaited: the
 * request does not wait for it). Never cleared one by one: entries older than {@link FORWARD_NOTE_TTL_MS} are swept
 * when a worker reads them, once per worker life. Every failure here only costs the duplicate it would have saved.
 */
import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';

/** How long a note counts: far longer than a worker's restart and a fetch event's second dispatch. */
export const FORWARD_NOTE_TTL_MS = 120_000;

let notes: UseStore | undefined;
const withStore: UseStore = (mode, fn) => (notes ??= createStore('outbox-forwarding', 'ids'))(mode, fn);

/** Notes that this worker starts forwarding `ids` (fire and forget). */
export function noteForwarding(ids: readonly string[], at: number): void {
  if (ids.length === 0) return;
  withStore('readwrite', (store) => {
    for (const id of ids) store.put(at, id);
    return promisifyRequest(store.transaction);
  }).catch(() => undefined);
}

/** The ids earlier workers noted within the TTL; older notes are deleted. Empty on any failure. */
export function readForwarding(now: number): Promise<Set<string>> {
  return withStore('readwrite', (store) => {
    const ids = new Set<string>();
    const cursor = store.openCursor();
    cursor.onsuccess = () => {
      const c = cursor.result;
      if (!c) return;
      if (now - c.value <= FORWARD_NOTE_TTL_MS) ids.add(String(c.key));
      else c.delete();
      c.continue();
    };
    return promisifyRequest(store.transaction).then(() => ids);
  }).catch(() => new Set<string>());
}

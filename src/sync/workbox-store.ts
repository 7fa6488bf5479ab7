/**
 * The one place that knows Workbox's own IndexedDB schema (workbox-background-sync 7.4: database
 * `workbox-background-sync`, store `requests`, index `queueName`, rows `{ id, timestamp, requestData }`), used
 * to expire stored requests with a count of their events — Workbox's own expiry drops them silently.
 */
import { done, req } from '../storage/idb-request';

const WORKBOX_DB = 'workbox-background-sync';
const WORKBOX_STORE = 'requests';

/** A stored request as Workbox keeps it. */
export interface WorkboxRow {
  id: number;
  timestamp: number;
  requestData: { url: string; headers: Record<string, string>; body?: ArrayBuffer };
}

/**
 * Deletes the rows of `queueName` stored before `cutoff` (epoch ms) in one transaction and returns them. Call it
 * after the Queue has opened its database (e.g. after `queue.size()`), so Workbox creates or upgrades it first.
 */
export async function deleteRowsBefore(queueName: string, cutoff: number): Promise<WorkboxRow[]> {
  const db = await req(indexedDB.open(WORKBOX_DB));
  try {
    const index = db.transaction(WORKBOX_STORE, 'readonly').objectStore(WORKBOX_STORE).index('queueName');
    const rows = (await req(index.getAll(IDBKeyRange.only(queueName)))) as WorkboxRow[];
    const old = rows.filter((r) => r.timestamp < cutoff);
    if (old.length === 0) return old;
    const tx = db.transaction(WORKBOX_STORE, 'readwrite');
    for (const row of old) tx.objectStore(WORKBOX_STORE).delete(row.id);
    await done(tx);
    return old;
  } finally {
    db.close();
  }
}

/** The stored request of a row, rebuilt as a Request. */
export function requestOf(row: WorkboxRow): Request {
  return new Request(row.requestData.url, { method: 'POST', headers: row.requestData.headers, body: row.requestData.body });
}

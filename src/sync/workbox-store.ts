/**
 * The one place that knows Workbox's own IndexedDB schema (workbox-background-sync 7.4: database
 * `workbox-background-sync`, store `requests` keyed by an auto-incremented `id`, index `queueName`, rows
 * `{ id, queueName, timestamp, metadata?, requestData }`). The replay reads a row, sends it, and only then deletes
 * or rewrites it: Workbox's own `shiftRequest` deletes first, so a worker killed mid-send (its renderer crashed,
 * the browser stopped it) lost the request — seen in the chaos soak. Also expires old rows with a count of their
 * events (Workbox's own expiry is silent).
 *
 * Call these after the Queue has opened its database (e.g. after `queue.size()`), so Workbox creates or upgrades
 * it first: opening it here without a version would create an empty database.
 */
import { StorableRequest } from 'workbox-background-sync';
import { done, req } from '../storage/idb-request';

const WORKBOX_DB = 'workbox-background-sync';
const WORKBOX_STORE = 'requests';

/** A stored request as Workbox keeps it. */
export interface WorkboxRow {
  id: number;
  queueName: string;
  timestamp: number;
  metadata?: object;
  requestData: ConstructorParameters<typeof StorableRequest>[0];
}

/** Runs `fn` on a fresh connection to Workbox's database, closed afterwards. */
async function withDb<T>(fn: (db: IDBDatabase) => Promise<T>): Promise<T> {
  const db = await req(indexedDB.open(WORKBOX_DB));
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}

/** The oldest row of `queueName` (the front of the queue), left in place; undefined when the queue is empty. */
export function firstRow(queueName: string): Promise<WorkboxRow | undefined> {
  return withDb(async (db) => {
    const index = db.transaction(WORKBOX_STORE, 'readonly').objectStore(WORKBOX_STORE).index('queueName');
    const cursor = await req(index.openCursor(IDBKeyRange.only(queueName)));
    return (cursor?.value as WorkboxRow | undefined) ?? undefined;
  });
}

/** Deletes one row (a request that was answered for good). */
export function deleteRow(id: number): Promise<void> {
  return withDb(async (db) => {
    const tx = db.transaction(WORKBOX_STORE, 'readwrite');
    tx.objectStore(WORKBOX_STORE).delete(id);
    await done(tx);
  });
}

/** Replaces a row's request in place (same id, so the same place in the queue, and the same timestamp). */
export async function replaceRequest(row: WorkboxRow, request: Request): Promise<void> {
  const requestData = (await StorableRequest.fromRequest(request)).toObject();
  await withDb(async (db) => {
    const tx = db.transaction(WORKBOX_STORE, 'readwrite');
    tx.objectStore(WORKBOX_STORE).put({ ...row, requestData });
    await done(tx);
  });
}

/** Deletes the rows of `queueName` stored before `cutoff` (epoch ms) in one transaction and returns them. */
export function deleteRowsBefore(queueName: string, cutoff: number): Promise<WorkboxRow[]> {
  return withDb(async (db) => {
    const index = db.transaction(WORKBOX_STORE, 'readonly').objectStore(WORKBOX_STORE).index('queueName');
    const rows = (await req(index.getAll(IDBKeyRange.only(queueName)))) as WorkboxRow[];
    const old = rows.filter((r) => r.timestamp < cutoff);
    if (old.length === 0) return old;
    const tx = db.transaction(WORKBOX_STORE, 'readwrite');
    for (const row of old) tx.objectStore(WORKBOX_STORE).delete(row.id);
    await done(tx);
    return old;
  });
}

/** The stored request of a row, rebuilt as a Request (as Workbox's own replay would). */
export function requestOf(row: WorkboxRow): Request {
  return new StorableRequest(row.requestData).toRequest();
}

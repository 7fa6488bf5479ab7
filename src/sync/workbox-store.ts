/**
 * The one place that knows Workbox's own IndexedDB schema (workbox-background-sync 7.4: database
 * `workbox-background-sync`, store `requests` keyed by an auto-incremented `id`, index `queueName`, rows
 * `{ id, queueName, timestamp, metadata?, requestData }`). The replay reads a row, sends it, and only then deletes
 * or rewrites it: Workbox's own `shiftRequest` deletes first, so a worker killed mid-send (its renderer crashed,
 * the browser stopped it) lost the request — seen in the chaos soak. Also expires old rows with a count of their
 * events (Workbox's own expiry is silent).
 *
 * Call these after the Queue has opened its database (e.g. after `queue.size()`), so Workbox creates or upgrades
 * it first: opening it here without a version would create a database without Workbox's index. The connection stays
 * open (idb-keyval's createStore); Workbox 7.4 opens its database at the version it already has, so that blocks no
 * upgrade (a Workbox that bumped the version would wait for this connection: revisit on a Workbox upgrade).
 */
import { StorableRequest } from 'workbox-background-sync';
import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';

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

let workbox: UseStore | undefined;
/** idb-keyval's store function over Workbox's store: one transaction per call, the connection kept open. */
const withStore: UseStore = (mode, fn) => (workbox ??= createStore(WORKBOX_DB, WORKBOX_STORE))(mode, fn);

/** The oldest row of `queueName` (the front of the queue), left in place; undefined when the queue is empty. */
export function firstRow(queueName: string): Promise<WorkboxRow | undefined> {
  return withStore('readonly', async (store) => {
    const cursor = await promisifyRequest(store.index('queueName').openCursor(IDBKeyRange.only(queueName)));
    return (cursor?.value as WorkboxRow | undefined) ?? undefined;
  });
}

/** Deletes one row (a request that was answered for good). */
export function deleteRow(id: number): Promise<void> {
  return withStore('readwrite', (store) => {
    store.delete(id);
    return promisifyRequest(store.transaction);
  });
}

/** Replaces a row's request in place (same id, so the same place in the queue, and the same timestamp). */
export async function replaceRequest(row: WorkboxRow, request: Request): Promise<void> {
  const requestData = (await StorableRequest.fromRequest(request)).toObject();
  await withStore('readwrite', (store) => {
    store.put({ ...row, requestData });
    return promisifyRequest(store.transaction);
  });
}

/** Deletes the rows of `queueName` stored before `cutoff` (epoch ms) in one transaction and returns them. */
export async function deleteRowsBefore(queueName: string, cutoff: number): Promise<WorkboxRow[]> {
  const rows = (await withStore('readonly', (store) => promisifyRequest(store.index('queueName').getAll(IDBKeyRange.only(queueName))))) as WorkboxRow[];
  const old = rows.filter((r) => r.timestamp < cutoff);
  if (old.length === 0) return old;
  await withStore('readwrite', (store) => {
    for (const row of old) store.delete(row.id);
    return promisifyRequest(store.transaction);
  });
  return old;
}

/** The stored request of a row, rebuilt as a Request (as Workbox's own replay would). */
export function requestOf(row: WorkboxRow): Request {
  return new StorableRequest(row.requestData).toRequest();
}

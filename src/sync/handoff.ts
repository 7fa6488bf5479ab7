import type { Queue } from 'workbox-background-sync';
import { isRetryableStatus } from '../core/retry';
import { parseMultiStatus } from '../wire/ingestion';
import { writeAcks } from '../storage/acks';
import { noteForwarding, readForwarding } from '../storage/forwarding';
import { askReceipts } from '../wire/receipts';
import { readBatch, rebuild } from './batch-body';

/** Ids this worker is forwarding now, each with when its forward settles (answered and acknowledged, or given up). */
const forwarding = new Map<string, Promise<void>>();
/** Ids earlier workers of this scope noted as forwarding (storage/forwarding.ts), read once per worker life. */
let earlier: Promise<Set<string>> | undefined;

/**
 * The page's request through the worker: sent on at once; when the network fails or the answer is retryable, it is
 * stored in the Workbox queue and the page gets `202` + `Outbox-Queued: 1` — only once it is stored, so the page
 * never deletes what nobody owns (if storing fails, the page gets a network error and keeps the batch). The ids
 * settled for good are written to the acknowledgements (acks.ts), for a next load whose page did not live to see
 * the answer. With `receipts` (an Outbox relay's), the ids it forwards are noted (storage/forwarding.ts), and ids an
 * earlier worker noted — a fetch event dispatched again after that worker stopped — are first asked of the relay:
 * what it took is answered as delivered, only the rest is forwarded.
 */
export async function handOff(request: Request, queue: Queue, receipts?: string): Promise<Response> {
  const body = await request.arrayBuffer();
  // A plain copy: no keepalive (its 64 KiB budget would refuse a large replay), no navigation mode.
  let copy = () => new Request(request.url, { method: 'POST', headers: request.headers, body, credentials: request.credentials });
  const batch = await readBatch(copy());
  let ids = (batch?.batch ?? []).map((e) => String((e as { id?: unknown })?.id));
  if (receipts && batch) {
    // A request an earlier worker was forwarding when it stopped (the browser dispatches it again): ask the relay.
    const suspect = await (earlier ??= readForwarding(Date.now()));
    const ask = ids.filter((id) => suspect.delete(id));
    const got = ask.length > 0 ? await askReceipts(receipts, { Authorization: request.headers.get('Authorization') ?? '' }, ask, [], 10_000) : 'unknown';
    if (typeof got === 'object' && got.events.size > 0) {
      const all = ids;
      ids = ids.filter((id) => !got.events.has(id));
      // Taken already: answered as delivered; only the rest is forwarded.
      if (ids.length === 0) {
        void acknowledge(all);
        return Response.json({ successes: all.map((id) => ({ id, status: 201 })), errors: [] }, { status: 207 });
      }
      const rest = rebuild(copy(), batch, new Set(ids));
      copy = () => rest.clone();
    }
    noteForwarding(ids, Date.now());
  }
  // Held until the answer is in and its acknowledgement written: a page recovering these ids (their page crashed
  // meanwhile) waits for that instead of resending them (whenSettled).
  let release!: () => void;
  const settled = new Promise<void>((r) => (release = r));
  for (const id of ids) forwarding.set(id, settled);
  void settled.then(() => {
    for (const id of ids) if (forwarding.get(id) === settled) forwarding.delete(id);
  });
  const [response, acked] = await forward(copy, queue, ids).catch(() => [Response.error(), Promise.resolve()] as const);
  void acked.finally(release);
  return response;
}

/** Sends on, or stores in the queue; with the acknowledgement write (settled when written or failed). */
async function forward(copy: () => Request, queue: Queue, ids: string[]): Promise<readonly [Response, Promise<void>]> {
  try {
    const response = await fetch(copy());
    if (!isRetryableStatus(response.status)) {
      const acked = response.ok ? acknowledge(ids, response.status === 207 ? await response.clone().text() : undefined) : Promise.resolve();
      return [response, acked];
    }
    await response.body?.cancel().catch(() => undefined);
  } catch {
    /* network error: hand off below */
  }
  try {
    await queue.pushRequest({ request: copy() });
  } catch {
    return [Response.error(), Promise.resolve()]; // not stored: the page keeps the batch and retries
  }
  return [new Response(null, { status: 202, headers: { 'Outbox-Queued': '1' } }), acknowledge(ids)];
}

/** When the forwards of `ids` this worker has under way settle (answered and acknowledged); undefined if none. */
export function whenSettled(ids: readonly unknown[]): Promise<unknown> | undefined {
  const pending = new Set(ids.map((id) => forwarding.get(String(id))).filter(Boolean));
  return pending.size > 0 ? Promise.all(pending) : undefined;
}

/** Writes the `ids` of a request that are settled: all of them, or for a 207 those the server accepted. */
async function acknowledge(ids: string[], multiStatus?: string): Promise<void> {
  try {
    const result = multiStatus === undefined ? undefined : parseMultiStatus(multiStatus, ids);
    if (result?.kind === 'retry') return;
    const open = new Set(result?.kind === 'partial' ? [...result.retry, ...result.rejected.map((r) => r.id)] : []);
    await writeAcks(ids.filter((id) => !open.has(id)), Date.now());
  } catch {
    /* only a duplicate later */
  }
}

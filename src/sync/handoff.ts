import type { Queue } from 'workbox-background-sync';
import { isRetryableStatus } from '../core/retry';
import { parseMultiStatus } from '../wire/ingestion';
import { writeAcks } from '../storage/acks';
import { readBatch } from './batch-body';

/**
 * The page's request through the worker: sent on at once; when the network fails or the answer is retryable, it is
 * stored in the Workbox queue and the page gets `202` + `Outbox-Queued: 1` — only once it is stored, so the page
 * never deletes what nobody owns (if storing fails, the page gets a network error and keeps the batch). The ids
 * settled for good are written to the acknowledgements (acks.ts), for a next load whose page did not live to see
 * the answer.
 */
export async function handOff(request: Request, queue: Queue): Promise<Response> {
  const body = await request.arrayBuffer();
  // A plain copy: no keepalive (its 64 KiB budget would refuse a large replay), no navigation mode.
  const copy = () => new Request(request.url, { method: 'POST', headers: request.headers, body, credentials: request.credentials });
  try {
    const response = await fetch(copy());
    if (!isRetryableStatus(response.status)) {
      if (response.ok) void acknowledge(copy(), response.status === 207 ? await response.clone().text() : undefined);
      return response;
    }
    await response.body?.cancel().catch(() => undefined);
  } catch {
    /* network error: hand off below */
  }
  try {
    await queue.pushRequest({ request: copy() });
  } catch {
    return Response.error(); // not stored: the page keeps the batch and retries
  }
  void acknowledge(copy());
  return new Response(null, { status: 202, headers: { 'Outbox-Queued': '1' } });
}

/** Writes the ids of `request` that are settled: all of them, or for a 207 those the server accepted. */
async function acknowledge(request: Request, multiStatus?: string): Promise<void> {
  try {
    const ids = ((await readBatch(request))?.batch ?? []).map((e) => String((e as { id?: unknown })?.id));
    const result = multiStatus === undefined ? undefined : parseMultiStatus(multiStatus, ids);
    if (result?.kind === 'retry') return;
    const open = new Set(result?.kind === 'partial' ? [...result.retry, ...result.rejected.map((r) => r.id)] : []);
    await writeAcks(ids.filter((id) => !open.has(id)), Date.now());
  } catch {
    /* only a duplicate later */
  }
}

import type { Queue } from 'workbox-background-sync';
import { isRetryableStatus } from '../core/retry';

/**
 * The page's request through the worker: sent on at once; when the network fails or the answer is retryable, it is
 * stored in the Workbox queue and the page gets `202` + `Outbox-Queued: 1` — only once it is stored, so the page
 * never deletes what nobody owns (if storing fails, the page gets a network error and keeps the batch).
 */
export async function handOff(request: Request, queue: Queue): Promise<Response> {
  const body = await request.arrayBuffer();
  // A plain copy: no keepalive (its 64 KiB budget would refuse a large replay), no navigation mode.
  const copy = () => new Request(request.url, { method: 'POST', headers: request.headers, body, credentials: request.credentials });
  try {
    const response = await fetch(copy());
    if (!isRetryableStatus(response.status)) return response;
    await response.body?.cancel().catch(() => undefined);
  } catch {
    /* network error: hand off below */
  }
  try {
    await queue.pushRequest({ request: copy() });
  } catch {
    return Response.error(); // not stored: the page keeps the batch and retries
  }
  return new Response(null, { status: 202, headers: { 'Outbox-Queued': '1' } });
}

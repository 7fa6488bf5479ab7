import type { Queue } from 'workbox-background-sync';
import { readBatch } from './batch-body';
import type { SwDropInfo } from './config';
import { resend } from './resend';
import { deleteRowsBefore, requestOf } from './workbox-store';

/** What one drain of the queue needs. */
export interface DrainContext {
  queueName: string;
  retentionMs: number;
  timeoutMs: number;
  report(info: SwDropInfo): void;
  /** This sync event is the browser's last attempt. */
  lastChance(): boolean;
}

/**
 * Expires old requests (counted), then resends the stored requests in order until one must wait: that one goes
 * back at the front with its first timestamp, and the drain throws — failing the sync event, so the browser
 * schedules another (a failed last-chance sync keeps every request for the next worker start or page message).
 * Returns how many events were delivered.
 */
export async function drainQueue(queue: Queue, ctx: DrainContext): Promise<number> {
  await sweepExpired(queue, ctx);
  let delivered = 0;
  for (let entry = await queue.shiftRequest(); entry; entry = await queue.shiftRequest()) {
    const outcome = await resend(entry.request, ctx.timeoutMs, ctx.report);
    if (outcome.kind === 'done') {
      delivered += outcome.delivered;
      continue;
    }
    await queue.unshiftRequest({ request: outcome.request ?? entry.request, timestamp: entry.timestamp, metadata: entry.metadata });
    const last = ctx.lastChance() ? ' (last chance: requests kept for the next worker start or page message)' : '';
    throw Object.assign(new Error(`outbox: replay of queue "${ctx.queueName}" will be retried: ${outcome.why}${last}`), { delivered });
  }
  return delivered;
}

/** Deletes stored requests older than the retention, counting their events (Workbox's own expiry is silent). */
async function sweepExpired(queue: Queue, ctx: DrainContext): Promise<void> {
  await queue.size(); // lets Workbox create or upgrade its database before we open it
  const old = await deleteRowsBefore(ctx.queueName, Date.now() - ctx.retentionMs);
  if (old.length === 0) return;
  let count = 0;
  for (const row of old) count += (await readBatch(requestOf(row)))?.batch.length ?? 0;
  ctx.report({ reason: 'expired', count, requests: old.length });
}

import type { Queue } from 'workbox-background-sync';
import { readBatch } from './batch-body';
import type { SwDropInfo } from './config';
import { resend } from './resend';
import { deleteRow, deleteRowsBefore, firstRow, replaceRequest, requestOf } from './workbox-store';

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
 * Expires old requests (counted), then resends the stored requests in order until one must wait, and throws then
 * — failing the sync event, so the browser schedules another. A request stays stored until its answer is final:
 * it is deleted after a final answer, rewritten in place when only some of its events must wait (207), and left
 * as it was otherwise. A worker killed mid-send therefore sends it again later (a duplicate the collector
 * deduplicates by id), never loses it. Returns how many events were delivered.
 */
export async function drainQueue(queue: Queue, ctx: DrainContext): Promise<number> {
  await sweepExpired(queue, ctx);
  let delivered = 0;
  for (let row = await firstRow(ctx.queueName); row; row = await firstRow(ctx.queueName)) {
    const outcome = await resend(requestOf(row), ctx.timeoutMs, ctx.report);
    if (outcome.kind === 'done') {
      await deleteRow(row.id);
      delivered += outcome.delivered;
      continue;
    }
    if (outcome.request) await replaceRequest(row, outcome.request);
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

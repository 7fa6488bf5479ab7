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
  /** The relay's receipts URL, asked before resending a request of unknown fate (sync/resend.ts). */
  receipts?: string;
  /**
   * Rows whose last send by this worker got an answer that took none of what they hold now (owned by the worker's
   * drain, kept across drains): their fate is known, so no receipts query before their next send.
   */
  refused: Set<number>;
}

/**
 * Expires old requests (counted), then resends the stored requests in order until one must wait, and throws then
 * — failing the sync event, so the browser schedules another. A request stays stored until its answer is final:
 * it is deleted after a final answer, rewritten in place when only some of its events must wait (207), and left
 * as it was otherwise. A worker killed mid-send therefore sends it again later, never loses it; with the relay's
 * receipts (`ctx.receipts`) the next worker first asks the relay which of its events it already took, and sends
 * only the rest. Returns how many events were delivered.
 */
export async function drainQueue(queue: Queue, ctx: DrainContext): Promise<number> {
  await sweepExpired(queue, ctx);
  let delivered = 0;
  for (let row = await firstRow(ctx.queueName); row; row = await firstRow(ctx.queueName)) {
    const outcome = await resend(requestOf(row), ctx.timeoutMs, ctx.report, ctx.receipts, !ctx.refused.has(row.id));
    if (outcome.kind === 'done') {
      await deleteRow(row.id);
      ctx.refused.delete(row.id);
      delivered += outcome.delivered;
      continue;
    }
    if (outcome.request) await replaceRequest(row, outcome.request);
    if (outcome.definite) ctx.refused.add(row.id);
    else ctx.refused.delete(row.id);
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

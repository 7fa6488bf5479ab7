import { statusResult } from '../wire/answer';
import { parseMultiStatus } from '../wire/ingestion';
import { askReceipts } from '../wire/receipts';
import { readBatch, rebuild } from './batch-body';
import type { SwDropInfo } from './config';

/** What to do with a stored request after one resend: done (delivered or dropped), or retry (maybe a smaller one). */
export type ResendOutcome =
  | { kind: 'done'; delivered: number }
  /** `request`: a smaller one to keep in place of the stored one; `definite`: the server answered (it did not take the rest). */
  | { kind: 'retry'; why: string; request?: Request; definite?: boolean };

/**
 * Sends one stored request and maps the answer with the shared status ladder: 207 per event (the failed ids alone
 * are kept in a rebuilt request), 2xx done, 408/429/5xx retried, other statuses — 413 too: a stored request is not
 * split here — dropped and reported.
 *
 * With `receipts` (the relay's receipts URL) and `ask` (this request's fate is unknown: an earlier send may have
 * reached the server, its answer lost with the worker that sent it), the relay is asked first which of its events it
 * already took: those are done without a resend. A relay that does not answer the query means a resend would meet the
 * same: retried later, nothing sent now.
 */
export async function resend(stored: Request, timeoutMs: number, report: (info: SwDropInfo) => void, receipts?: string, ask = true): Promise<ResendOutcome> {
  let batch = await readBatch(stored.clone());
  let taken = 0;
  if (receipts && ask && batch) {
    const ids = batch.batch.map((e) => String((e as { id?: unknown })?.id));
    const got = await askReceipts(receipts, { Authorization: stored.headers.get('Authorization') ?? '' }, ids, [], timeoutMs);
    if (got === 'down') return { kind: 'retry', why: 'the relay did not answer the receipts query' };
    if (got !== 'unknown' && got.events.size > 0) {
      const rest = new Set(ids.filter((id) => !got.events.has(id)));
      taken = ids.length - rest.size;
      if (rest.size === 0) return { kind: 'done', delivered: taken };
      stored = rebuild(stored, batch, rest);
      batch = await readBatch(stored.clone());
    }
  }
  const outcome = await sendStored(stored, batch, timeoutMs, report);
  // The taken events are settled: a done request counts them as delivered, a retried one keeps the rest alone.
  if (outcome.kind === 'done') return { ...outcome, delivered: outcome.delivered + taken };
  return taken > 0 ? { ...outcome, request: outcome.request ?? stored } : outcome;
}

async function sendStored(stored: Request, batch: Awaited<ReturnType<typeof readBatch>>, timeoutMs: number, report: (info: SwDropInfo) => void): Promise<ResendOutcome> {
  let response: Response;
  try {
    response = await fetch(stored.clone(), { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    return { kind: 'retry', why: `network error: ${(error as Error)?.message ?? error}` };
  }
  const status = response.status;
  const count = batch?.batch.length ?? 0;
  if (status === 207) {
    const ids = batch ? batch.batch.map((e) => String((e as { id?: unknown })?.id)) : [];
    const result = parseMultiStatus(await response.text(), ids);
    if (result.kind === 'ok') return { kind: 'done', delivered: count };
    if (result.kind !== 'partial' || !batch) return { kind: 'retry', why: 'HTTP 207 with an unreadable body' };
    if (result.rejected.length > 0) {
      report({ reason: 'rejected', count: result.rejected.length, requests: 1, status: result.rejected[0]?.status });
    }
    const again = new Set<string>(result.retry);
    const delivered = count - result.rejected.length - again.size;
    if (again.size === 0) return { kind: 'done', delivered };
    // The page would resend only these: keep a request with the failed events alone.
    return { kind: 'retry', why: `HTTP 207: ${again.size} events failed`, request: rebuild(stored, batch, again), definite: true };
  }
  await response.body?.cancel().catch(() => undefined);
  const result = statusResult(status, response.headers, Date.now(), `HTTP ${status}`);
  if (result.kind === 'ok' || result.kind === 'handed-off') return { kind: 'done', delivered: count };
  if (result.kind === 'retry') return { kind: 'retry', why: `HTTP ${status}`, definite: true };
  report({ reason: 'rejected', count, requests: 1, status }); // a stored request is not split: 413 is final here
  return { kind: 'done', delivered: 0 };
}

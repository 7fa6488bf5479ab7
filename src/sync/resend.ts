import { statusResult } from '../wire/answer';
import { parseMultiStatus } from '../wire/ingestion';
import { readBatch, rebuild } from './batch-body';
import type { SwDropInfo } from './config';

/** What to do with a stored request after one resend: done (delivered or dropped), or retry (maybe a smaller one). */
export type ResendOutcome = { kind: 'done'; delivered: number } | { kind: 'retry'; why: string; request?: Request };

/**
 * Sends one stored request and maps the answer with the shared status ladder: 207 per event (the failed ids alone
 * are kept in a rebuilt request), 2xx done, 408/429/5xx retried, other statuses — 413 too: a stored request is not
 * split here — dropped and reported.
 */
export async function resend(stored: Request, timeoutMs: number, report: (info: SwDropInfo) => void): Promise<ResendOutcome> {
  const batch = await readBatch(stored.clone());
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
    return { kind: 'retry', why: `HTTP 207: ${again.size} events failed`, request: rebuild(stored, batch, again) };
  }
  await response.body?.cancel().catch(() => undefined);
  const result = statusResult(status, response.headers, Date.now(), `HTTP ${status}`);
  if (result.kind === 'ok' || result.kind === 'handed-off') return { kind: 'done', delivered: count };
  if (result.kind === 'retry') return { kind: 'retry', why: `HTTP ${status}` };
  report({ reason: 'rejected', count, requests: 1, status }); // a stored request is not split: 413 is final here
  return { kind: 'done', delivered: 0 };
}

import type { EventError } from './ingestion';
import type { Records } from './records';
import { retryAfterSeconds, type Delivery } from './upstream';

/** A JSON answer with these headers (CORS for an allowed origin, Retry-After, …). */
export function answer(status: number, body: unknown, headers: Record<string, string>): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

/**
 * The page's answer for the upstream's outcome: 2xx passed on (ingestion as a 207 with the relay's own per-event
 * refusals merged in), a 207 merged per id, 429 kept as 429 and other retryable failures made 503 — both with
 * Retry-After (the upstream's, else the relay's default) — 413 kept, other refusals passed on with their message.
 */
export function answerDelivery(d: Delivery, records: Records, fresh: string[], seen: string[], cors: Record<string, string>, fallbackRetryAfterSeconds: number): Response {
  switch (d.kind) {
    case 'ok': {
      if (records.wire === 'ingestion') {
        return answer(207, { successes: [...fresh, ...seen].map((k) => ({ id: records.idOf(k), status: 201 })), errors: records.errors }, cors);
      }
      const isJson = (d.contentType ?? '').includes('json') && d.text.trim().startsWith('{');
      return new Response(isJson ? d.text : JSON.stringify({ partialSuccess: {} }), { status: d.status, headers: { 'Content-Type': 'application/json', ...cors } });
    }
    case 'multi': {
      const retry = d.retry.map((id) => ({ id, status: 503, message: 'the upstream asked to retry this event' }));
      return answer(207, {
        successes: [...d.taken, ...seen.map(records.idOf)].map((id) => ({ id, status: 201 })),
        errors: [...records.errors, ...d.errors, ...retry],
      }, cors);
    }
    case 'retry': {
      const status = d.status === 429 ? 429 : 503;
      const after = retryAfterSeconds(d, fallbackRetryAfterSeconds);
      return answer(status, { message: status === 429 ? 'the upstream is rate limiting: retry later' : 'the upstream is unavailable: retry later' }, { ...cors, 'Retry-After': String(after) });
    }
    case 'too-large':
      return answer(413, { message: `the upstream refused the body as too large: ${d.message}` }, cors);
    case 'rejected':
      return answer(d.status, { message: d.message }, cors);
  }
}

/** An ingestion 207: these keys taken (with `status`), these events refused. */
export function multi(records: Records, taken: string[], errors: EventError[], cors: Record<string, string>, status = 201): Response {
  return answer(207, { successes: taken.map((k) => ({ id: records.idOf(k), status })), errors }, cors);
}

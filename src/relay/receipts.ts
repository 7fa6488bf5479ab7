// The receipts query (`POST …/outbox/receipts`): which of the records a client asks about the relay already took,
// so a client whose first answer was lost (a service worker that died after the relay got its request) resends
// only the others. Answered from the dedup windows; nothing is forwarded.
import { answer } from './answers';
import type { Claims } from './dedup';
import type { ResolvedRelayOptions } from './options';
import { EVENT_KEY } from './records';
import type { Tell } from './stats';

/** The path suffix of the query, beside Langfuse's two (`PATHS` in upstream.ts). */
export const RECEIPTS_PATH = '/outbox/receipts';
/** Most ids in one query (events and spans together), and the longest id. */
const RECEIPT_LIMITS = { maxIds: 5000, maxIdChars: 256 } as const;

/** A valid query: ingestion event ids and span keys (`traceId:spanId`), as the client sent them. */
export interface ReceiptQuery {
  events: string[];
  spans: string[];
}

/** Checks a parsed JSON body: `{ events?: string[], spans?: string[] }`; a message names the first problem. */
export function parseReceiptQuery(json: unknown): ReceiptQuery | { message: string } {
  const shape = 'a receipts query is { "events"?: string[], "spans"?: string[] }';
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return { message: `${shape}: the body is not an object` };
  const body = json as Record<string, unknown>;
  const unknown = Object.keys(body).find((k) => k !== 'events' && k !== 'spans');
  if (unknown !== undefined) return { message: `${shape}: unknown field "${unknown.slice(0, 60)}"` };
  const query: ReceiptQuery = { events: [], spans: [] };
  let total = 0;
  for (const field of ['events', 'spans'] as const) {
    const ids = body[field];
    if (ids === undefined) continue;
    if (!Array.isArray(ids)) return { message: `${shape}: ${field} must be an array of strings` };
    total += ids.length;
    if (total > RECEIPT_LIMITS.maxIds) return { message: `at most ${RECEIPT_LIMITS.maxIds} ids in one receipts query (events and spans together): split it` };
    for (let i = 0; i < ids.length; i++) {
      const id: unknown = ids[i];
      if (typeof id !== 'string') return { message: `${field}[${i}]: must be a string` };
      if (id.length > RECEIPT_LIMITS.maxIdChars) return { message: `${field}[${i}]: longer than ${RECEIPT_LIMITS.maxIdChars} characters` };
    }
    query[field] = ids as string[];
  }
  return query;
}

/**
 * Answers an admitted query: 200 `{ events, spans }`, the asked ids (each once, in the order asked) that the
 * relay's window (and the shared one, with the `dedup` binding) holds as taken. With the window off, both empty.
 */
export function createReceipts(o: ResolvedRelayOptions, tell: Tell, claims: Claims) {
  const windowOn = o.dedupWindow.maxIds > 0 && o.dedupWindow.ttlMs > 0;
  return async function receipts(query: ReceiptQuery, env: unknown, cors: Record<string, string>): Promise<Response> {
    tell.count('receipts');
    if (!windowOn) return answer(200, { events: [], spans: [] }, cors);
    // The dedup keys (records.ts): an event's is `event:` + id, a span's `traceId:spanId` in lower case. A span
    // "id" that starts like an event key is no span's key: never asked, never reported.
    const events = query.events.map((id): [string, string] => [EVENT_KEY + id, id]);
    const spans = query.spans.filter((id) => !id.startsWith(EVENT_KEY)).map((id): [string, string] => [id.toLowerCase(), id]);
    const taken = new Set(await claims.taken([...new Set([...events, ...spans].map(([k]) => k))], o.dedupFor(env)));
    const pick = (asked: [string, string][]) => [...new Set(asked.filter(([k]) => taken.has(k)).map(([, id]) => id))];
    const found = { events: pick(events), spans: pick(spans) };
    tell.count('receiptsTaken', found.events.length + found.spans.length);
    return answer(200, found, cors);
  };
}

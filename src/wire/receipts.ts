/**
 * The relay's receipts query (`outbox/relay`: `POST <relay>/outbox/receipts`), asked before resending records whose
 * first answer nobody saw (a service worker that died mid-forward, a page that crashed or left): `{ events, spans }`
 * in, the subset the relay has taken out. Event ids as sent; spans as `traceId:spanId`. The service worker's replay
 * (sync/resend.ts) and a recovering page (platform/acked.ts) ask it; nothing else on the wire knows the route.
 */

/** The route under a relay's base URL. */
export const RECEIPTS_PATH = '/outbox/receipts';
/** Most ids of each kind in one query (the relay takes at most 5000 in all, within its 1 MiB body): larger asks are split. */
export const MAX_RECEIPT_IDS = 1000;

/** What the relay has taken of the asked ids. */
export interface Receipts {
  events: Set<string>;
  spans: Set<string>;
}

/**
 * The taken subset of `events` and `spans`; `'down'` when the relay did not answer (network error, timeout, 408,
 * 429, 5xx: a resend now would meet the same), `'unknown'` when it answered but not with receipts (an older relay,
 * a server that is not one). Never rejects.
 */
export async function askReceipts(
  url: string,
  headers: Record<string, string>,
  events: readonly string[],
  spans: readonly string[],
  timeoutMs: number,
): Promise<Receipts | 'down' | 'unknown'> {
  const out: Receipts = { events: new Set(), spans: new Set() };
  for (let i = 0; i < Math.max(events.length, spans.length); i += MAX_RECEIPT_IDS) {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { ...headers, 'Content-Type': 'application/json' },
        body: JSON.stringify({ events: events.slice(i, i + MAX_RECEIPT_IDS), spans: spans.slice(i, i + MAX_RECEIPT_IDS) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch {
      return 'down';
    }
    const status = response.status;
    if (status === 408 || status === 429 || status >= 500) return 'down';
    const body = (await response.json().catch(() => null)) as { events?: unknown; spans?: unknown } | null;
    if (status !== 200 || !Array.isArray(body?.events) || !Array.isArray(body.spans)) return 'unknown';
    for (const id of body.events) out.events.add(String(id));
    for (const key of body.spans) out.spans.add(String(key));
  }
  return out;
}

/**
 * A page's way to ask its Outbox relay (`createOutbox({ relay })`) which records it already took (the relay's
 * receipts, wire/receipts.ts): asked before resending records whose first send may have arrived — those a recovering
 * load adopts (platform/acked.ts) and those whose last send failed on the network (platform/page-transport.ts).
 */
import type { StoredEvent } from '../core/types';
import { askReceipts, RECEIPTS_PATH } from '../wire/receipts';
import { relayOf } from '../transport/unload';
import { authHeaders } from '../transport/fetch';

/** How long a page waits for the relay's receipts before it resends without them. */
const RECEIPTS_WAIT_MS = 5000;

/**
 * The ids of `records` that the relay already took (its receipts); `'down'` when the relay did not answer (a resend
 * now would fail too), undefined when it answered but cannot tell (not an Outbox relay).
 */
export type AskRelay = (records: StoredEvent[]) => Promise<Set<string> | 'down' | undefined>;

/**
 * Asks the relay which of `records` it already took: ingestion events by id, spans by `traceId:spanId` (read from
 * the stored line).
 */
export function relayReceipts(relay: string, headers: Record<string, string>): AskRelay {
  const url = relay.replace(/\/+$/, '') + RECEIPTS_PATH;
  return async (records) => {
    const spanKey = new Map<string, string>();
    const events: string[] = [];
    for (const r of records) {
      if (r.wire !== 'otlp') {
        events.push(r.id);
        continue;
      }
      try {
        const span = JSON.parse(r.line) as { traceId?: unknown; spanId?: unknown };
        if (typeof span.traceId === 'string' && typeof span.spanId === 'string') spanKey.set(`${span.traceId}:${span.spanId}`, r.id);
      } catch {
        /* an unreadable line is resent, as before */
      }
    }
    const got = await askReceipts(url, headers, events, [...spanKey.keys()], RECEIPTS_WAIT_MS);
    if (typeof got === 'string') return got === 'down' ? got : undefined;
    const taken = new Set(got.events);
    for (const key of got.spans) {
      const id = spanKey.get(key);
      if (id !== undefined) taken.add(id);
    }
    return taken;
  };
}

/** The client's asker: with `relay`, its receipts with the public key; without, none (nothing to ask). */
export function receiptsOf(options: { relay?: string; publicKey?: string }): AskRelay | undefined {
  const relay = relayOf(options);
  return relay ? relayReceipts(relay, authHeaders(options.publicKey)) : undefined;
}

import type { LeaveHooks } from '../core/client';
import { utf8Length } from '../core/encode';
import { errorText } from '../core/errors';
import type { SendResult, Storage, StoredEvent } from '../core/types';
import { createUuid } from '../core/uuid';
import type { Wire, WireName } from '../wire/types';

/**
 * The unload path: when the page is hidden or left, send what is queued with requests the browser finishes after
 * the document is gone, within the document's keepalive budget, and leave the rest queued (and stored).
 *
 * Order: keepalive `fetch` (its answer is seen while the page lives, so its records are settled normally), then
 * `fetchLater` where it exists (a separate 64 KiB quota), then `navigator.sendBeacon` in chunks that fit.
 * Records sent by fetchLater/beacon — and keepalive'd ones while no answer has come — are marked in storage with
 * `markSent`: if the page dies first, a later load resends them only after a grace period (at-least-once; the
 * receiver deduplicates by id). What fits nowhere is put back in the queue, and so stays in IndexedDB.
 * Platform facts behind every number here: docs/platform-facts.md.
 */

/**
 * Body bytes one document may have in flight over keepalive fetches and beacons together; freed only when each
 * response arrives. Over it a keepalive fetch rejects (later) with a TypeError and sendBeacon returns false.
 */
export const KEEPALIVE_BUDGET_BYTES = 65_536;
/**
 * Unload requests (keepalive + beacons) this client keeps in flight at most. Chromium refuses keepalive fetches
 * past 256 per page and silently drops beacons past it while sendBeacon still returns true, and the host page
 * may use some too: stay well under.
 */
export const MAX_UNLOAD_REQUESTS = 32;
/** fetchLater's own quota per origin, counting URL + headers + body. */
export const FETCH_LATER_QUOTA_BYTES = 65_536;
/** Room kept under the fetchLater quota for the URL and headers. */
const FETCH_LATER_RESERVE = 512;
/**
 * A beacon gives no answer: its bytes are counted against the budget for this long after it was sent (ms).
 * Underestimating only costs a keepalive fetch that is refused and retried later, never a loss. @default 10 s
 */
export const BEACON_HOLD_MS = 10_000;
/** Unload bodies are text/plain: CORS-safelisted, so no preflight that could not finish after the page is gone. */
const UNLOAD_CONTENT_TYPE = 'text/plain;charset=UTF-8';

/** What one unload send did, in records. */
export interface UnloadReport {
  /** Sent by keepalive fetch (answer pending). */
  keepalive: number;
  /** Handed to fetchLater. */
  fetchLater: number;
  /** Accepted by sendBeacon. */
  beacon: number;
  /** Put back in the queue (and so kept in storage): did not fit. */
  kept: number;
  /** Requests made. */
  requests: number;
}

/** Platform functions, injectable for tests. Each defaults to the global where it exists. */
export interface UnloadDeps {
  /** Where beaconed records are marked (IndexedDB storage); without markSent they are settled and forgotten. */
  storage?: Pick<Storage, 'markSent'>;
  /** @default globalThis.fetch */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** @default navigator.sendBeacon, bound; none where absent */
  sendBeacon?: ((url: string, data: string) => boolean) | null;
  /** @default globalThis.fetchLater where present (Chromium ≥ 135); none elsewhere */
  fetchLater?: ((url: string, init: RequestInit & { activateAfter?: number }) => unknown) | null;
  /** Epoch ms for markSent and Retry-After. @default Date.now */
  now?: () => number;
  /** @default globalThis.setTimeout */
  setTimeout?: (fn: () => void, ms: number) => unknown;
  /** @default createUuid() */
  uuid?: () => string;
  /** @default KEEPALIVE_BUDGET_BYTES */
  budgetBytes?: number;
  /** @default MAX_UNLOAD_REQUESTS */
  maxRequests?: number;
}

/** Sends the client's queue over the unload transports. */
export interface UnloadSender {
  /**
   * Takes what is queued and sends it now, synchronously (a pagehide handler must not await). Records already
   * tried since the last `reset()` are not tried again (so `pagehide` then `visibilitychange` costs one send).
   */
  send(): UnloadReport;
  /** The page is shown again: a later hide tries everything again. */
  reset(): void;
  /** Keepalive + beacon body bytes this client counts in flight. */
  inflightBytes(): number;
}

/** The unload URL: the endpoint with the public key as `?pk=` (a beacon cannot carry an Authorization header). */
export function unloadUrl(endpoint: string, publicKey?: string): string {
  if (!publicKey) return endpoint;
  return endpoint + (endpoint.includes('?') ? '&' : '?') + 'pk=' + encodeURIComponent(publicKey);
}

/** The platform's unload functions, or the injected ones. */
function platformFns(deps: UnloadDeps) {
  const nav = typeof navigator !== 'undefined' ? navigator : undefined;
  const fl = (globalThis as { fetchLater?: (u: string, i: RequestInit) => unknown }).fetchLater;
  return {
    fetch: deps.fetch !== undefined ? deps.fetch : typeof fetch === 'function' ? (u: string, i: RequestInit) => fetch(u, i) : undefined,
    beacon: deps.sendBeacon !== undefined ? deps.sendBeacon : typeof nav?.sendBeacon === 'function' ? (u: string, d: string) => nav.sendBeacon(u, d) : null,
    later: deps.fetchLater !== undefined ? deps.fetchLater : typeof fl === 'function' ? (u: string, i: RequestInit) => fl(u, i) : null,
  };
}

/** Records grouped by wire, in the order their first record was queued. */
function byWire(records: StoredEvent[]): [WireName, StoredEvent[]][] {
  const groups = new Map<WireName, StoredEvent[]>();
  for (const r of records) {
    const name = r.wire ?? 'ingestion';
    const list = groups.get(name);
    if (list) list.push(r);
    else groups.set(name, [r]);
  }
  return [...groups];
}

/** Builds the unload sender for a client. Touches no global until `send()`. */
export function createUnloadSender(hooks: LeaveHooks, deps: UnloadDeps = {}): UnloadSender {
  const options = hooks.options;
  const now = deps.now ?? Date.now;
  const later = deps.setTimeout ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
  const uuid = deps.uuid ?? createUuid();
  const budget = deps.budgetBytes ?? KEEPALIVE_BUDGET_BYTES;
  const maxRequests = deps.maxRequests ?? MAX_UNLOAD_REQUESTS;
  const headers = { 'Content-Type': UNLOAD_CONTENT_TYPE };

  let inflight = 0;
  let requests = 0;
  const attempted = new Set<string>();

  /** Sends one wire's records; returns those that fit nowhere. Shares the budget counters across wires. */
  function sendGroup(wire: Wire, events: StoredEvent[], report: UnloadReport, marked: StoredEvent[], unknownFate: StoredEvent[]): StoredEvent[] {
    const fns = platformFns(deps);
    const url = unloadUrl(wire.url, options.publicKey);
    const sizes = events.map((e) => utf8Length(e.line) + 1);
    let next = 0;

    /** How many records from `next` fit in a body of at most `room` bytes. */
    function fit(room: number): number {
      let bytes = wire.envelopeBytes;
      let count = 0;
      while (next + count < events.length && bytes + sizes[next + count]! <= room) bytes += sizes[next + count++]!;
      return count;
    }
    function body(chunk: StoredEvent[]): { text: string; bytes: number } {
      const text = wire.encodeBatch(uuid(), chunk);
      return { text, bytes: utf8Length(text) };
    }

    // 1. keepalive fetch, within our own count of the budget: over it the fetch fails only later, asynchronously.
    while (fns.fetch && next < events.length && requests < maxRequests) {
      const count = fit(Math.min(budget - inflight, options.maxBatchBytes));
      if (count === 0) break;
      const chunk = events.slice(next, next + count);
      const { text, bytes } = body(chunk);
      let pending: Promise<Response>;
      try {
        pending = fns.fetch(url, { method: 'POST', keepalive: true, body: text, headers });
      } catch {
        break; // a fetch without keepalive support may throw: leave the rest to the beacon
      }
      inflight += bytes;
      requests++;
      report.requests++;
      report.keepalive += count;
      next += count;
      marked.push(...chunk);
      const ids = chunk.map((e) => e.id);
      pending
        .then((response) => wire.answer(response, ids, now()))
        .catch((error: unknown): SendResult => ({ kind: 'retry', network: true, error: `unload keepalive failed: ${errorText(error)}` }))
        .then((result) => {
          inflight -= bytes;
          requests--;
          hooks.answer(chunk, result); // the page lived to see the answer: settle as a normal send
        })
        .catch(() => undefined);
    }

    // 2. fetchLater: its own quota (64 KiB per origin incl. URL and headers); over it, it throws synchronously.
    let room = Math.min(FETCH_LATER_QUOTA_BYTES - FETCH_LATER_RESERVE - url.length, options.maxBatchBytes);
    while (fns.later && next < events.length && requests < maxRequests) {
      let count = fit(room);
      let sent = false;
      while (count > 0) {
        const chunk = events.slice(next, next + count);
        const { text, bytes } = body(chunk);
        try {
          // activateAfter 0: send now even if the page lives on (a hidden tab); it also goes if the page is destroyed.
          fns.later(url, { method: 'POST', body: text, headers, activateAfter: 0 });
          unknownFate.push(...chunk);
          report.fetchLater += count;
          report.requests++;
          next += count;
          room = Math.min(room, bytes); // the quota only shrinks: the next chunk is no larger
          sent = true;
          break;
        } catch {
          count = Math.floor(count / 2); // QuotaExceededError: try a smaller chunk
        }
      }
      if (!sent) break;
    }

    // 3. sendBeacon for the rest: `false` means over the budget: halve the chunk, down to one record.
    let cap = Infinity; // after a refusal, never try a larger chunk again: the budget only shrinks
    while (fns.beacon && next < events.length && requests < maxRequests) {
      // Our own in-flight bytes bound what is free from above (the host page may use some of the budget too).
      const count = Math.min(cap, fit(Math.min(budget - inflight, options.maxBatchBytes)));
      if (count === 0) break;
      const chunk = events.slice(next, next + count);
      const { text, bytes } = body(chunk);
      let ok = false;
      try {
        ok = fns.beacon(url, text);
      } catch {
        ok = false;
      }
      if (!ok) {
        cap = Math.floor(count / 2);
        continue;
      }
      inflight += bytes;
      requests++;
      report.requests++;
      later(() => {
        inflight -= bytes;
        requests--;
      }, BEACON_HOLD_MS);
      unknownFate.push(...chunk);
      report.beacon += chunk.length;
      next += count;
    }
    return events.slice(next);
  }

  function send(): UnloadReport {
    const report: UnloadReport = { keepalive: 0, fetchLater: 0, beacon: 0, kept: 0, requests: 0 };
    const all = hooks.takeQueued();
    if (all.length === 0) return report;
    const tried = all.filter((e) => attempted.has(e.id));
    const fresh = tried.length === 0 ? all : all.filter((e) => !attempted.has(e.id));
    for (const e of fresh) attempted.add(e.id);

    const keptAlive: StoredEvent[] = [];
    const unknownFate: StoredEvent[] = [];
    const rest: StoredEvent[] = [];
    for (const [name, events] of byWire(fresh)) {
      const wire = hooks.wires[name];
      if (wire) rest.push(...sendGroup(wire, events, report, keptAlive, unknownFate));
      else rest.push(...events);
    }
    // Marked first, so that a page gone before any answer leaves them stored with the time they were sent.
    const marked = [...keptAlive, ...unknownFate];
    const markSent = deps.storage?.markSent;
    if (marked.length > 0 && markSent) markSent.call(deps.storage, marked.map((e) => e.id), now()).catch(() => undefined);
    if (unknownFate.length > 0) hooks.settle(unknownFate, 'sent', markSent !== undefined);
    report.kept = rest.length + tried.length;
    hooks.putBack(rest);
    hooks.putBack(tried);
    return report;
  }

  return {
    send,
    reset() {
      attempted.clear();
    },
    inflightBytes: () => inflight,
  };
}

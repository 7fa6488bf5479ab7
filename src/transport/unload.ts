import type { ClientInternals } from '../core/client';
import { encodeBatch, encodeMetadata, utf8Length } from '../core/encode';
import { isRetryableStatus, parseRetryAfter } from '../core/retry';
import type { SendResult, Storage, StoredEvent } from '../core/types';
import { createUuid } from '../core/uuid';
import { watchLifecycle, type LifecycleTargets } from '../platform/lifecycle';
import { parseMultiStatus } from './fetch';

/**
 * The unload path: when the page is hidden or left, send what is queued with requests the browser finishes after
 * the document is gone, within the document's keepalive budget, and leave the rest queued (and stored).
 *
 * Order: keepalive `fetch` (its answer is seen while the page lives, so its events are settled normally), then
 * `fetchLater` where it exists (a separate 64 KiB quota), then `navigator.sendBeacon` in chunks that fit.
 * Events sent by fetchLater/beacon — and keepalive'd events while no answer has come — are marked in storage with
 * `markSent`: if the page dies first, a later load resends them only after a grace period (at-least-once; the
 * collector deduplicates by id). What fits nowhere is put back in the queue, and so stays in IndexedDB.
 */

/**
 * Body bytes one document may have in flight over keepalive fetches and beacons together; freed only when each
 * response arrives. Over it a keepalive fetch rejects (later) with a TypeError and sendBeacon returns false
 * (measured in Chromium 156, TOOLCHAIN §8.2; the Fetch spec's "inflight keepalive bytes" limit).
 */
export const KEEPALIVE_BUDGET_BYTES = 65_536;
/**
 * Unload requests (keepalive + beacons) this client keeps in flight at most. Chromium refuses keepalive fetches
 * past 256 per page and silently drops beacons past it while sendBeacon still returns true (§8.2), and the host
 * page may use some too: stay well under.
 */
export const MAX_UNLOAD_REQUESTS = 32;
/** fetchLater's own quota per origin, counting URL + headers + body (Chromium 156, §8.2). */
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

/** What one unload send did, in events. */
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
  /** Where beaconed events are marked (IndexedDB storage); without markSent they are settled and forgotten. */
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
   * Takes what is queued and sends it now, synchronously (a pagehide handler must not await). Events already
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

/** Maps an HTTP answer to a SendResult, as the fetch transport does. */
async function resultOf(response: Response, ids: string[], now: number): Promise<SendResult> {
  const status = response.status;
  if (status === 207) return parseMultiStatus(await response.text(), ids);
  await response.arrayBuffer().catch(() => undefined);
  if (status === 202 && response.headers.get('Outbox-Queued') === '1') return { kind: 'handed-off' };
  if (status >= 200 && status < 300) return { kind: 'ok' };
  if (status === 413) return { kind: 'too-large' };
  if (isRetryableStatus(status) || status < 200 || (status >= 300 && status < 400)) {
    const retryAfterMs = parseRetryAfter(response.headers.get('Retry-After'), now);
    return { kind: 'retry', network: false, status, retryAfterMs, error: `HTTP ${status} (unload)` };
  }
  return { kind: 'rejected', status, error: `HTTP ${status} (unload)` };
}

/** Builds the unload sender for a client. Touches no global until `send()`. */
export function createUnloadSender(internals: ClientInternals, deps: UnloadDeps = {}): UnloadSender {
  const options = internals.options;
  const url = unloadUrl(options.endpoint, options.publicKey);
  const metadata = encodeMetadata(options.metadata);
  const now = deps.now ?? Date.now;
  const later = deps.setTimeout ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
  const uuid = deps.uuid ?? createUuid();
  const budget = deps.budgetBytes ?? KEEPALIVE_BUDGET_BYTES;
  const maxRequests = deps.maxRequests ?? MAX_UNLOAD_REQUESTS;
  /** Envelope bytes of a batch with no events, a 36-character batch id and a 6-digit batch_size. */
  const envelope = utf8Length(encodeBatch('00000000-0000-0000-0000-000000000000', [], metadata)) + 5;

  let inflight = 0;
  let requests = 0;
  const attempted = new Set<string>();

  function fetchFn() {
    if (deps.fetch !== undefined) return deps.fetch;
    return typeof fetch === 'function' ? (u: string, i: RequestInit) => fetch(u, i) : undefined;
  }
  function beaconFn() {
    if (deps.sendBeacon !== undefined) return deps.sendBeacon;
    const nav = typeof navigator !== 'undefined' ? navigator : undefined;
    return typeof nav?.sendBeacon === 'function' ? (u: string, d: string) => nav.sendBeacon(u, d) : null;
  }
  function fetchLaterFn() {
    if (deps.fetchLater !== undefined) return deps.fetchLater;
    const fl = (globalThis as { fetchLater?: (u: string, i: RequestInit) => unknown }).fetchLater;
    return typeof fl === 'function' ? (u: string, i: RequestInit) => fl(u, i) : null;
  }

  function send(): UnloadReport {
    const report: UnloadReport = { keepalive: 0, fetchLater: 0, beacon: 0, kept: 0, requests: 0 };
    const all = internals.takeAll();
    if (all.length === 0) return report;
    const tried = all.filter((e) => attempted.has(e.id));
    const events = tried.length === 0 ? all : all.filter((e) => !attempted.has(e.id));
    for (const e of events) attempted.add(e.id);
    const sizes = events.map((e) => utf8Length(e.line) + 1);
    let next = 0;

    /** How many events from `next` fit in a body of at most `room` bytes. */
    function fit(room: number): number {
      let bytes = envelope;
      let count = 0;
      while (next + count < events.length && bytes + sizes[next + count]! <= room) bytes += sizes[next + count++]!;
      return count;
    }
    function body(chunk: StoredEvent[]): { text: string; bytes: number } {
      const text = encodeBatch(uuid(), chunk, metadata);
      return { text, bytes: utf8Length(text) };
    }
    const headers = { 'Content-Type': UNLOAD_CONTENT_TYPE };
    const unknownFate: StoredEvent[] = [];
    const keptAlive: StoredEvent[] = [];

    // 1. keepalive fetch, within our own count of the budget: over it the fetch fails only later, asynchronously.
    const doFetch = fetchFn();
    while (doFetch && next < events.length && requests < maxRequests) {
      const count = fit(Math.min(budget - inflight, options.maxBatchBytes));
      if (count === 0) break;
      const chunk = events.slice(next, next + count);
      const { text, bytes } = body(chunk);
      let pending: Promise<Response>;
      try {
        pending = doFetch(url, { method: 'POST', keepalive: true, body: text, headers });
      } catch {
        break; // a fetch without keepalive support may throw: leave the rest to the beacon
      }
      inflight += bytes;
      requests++;
      report.requests++;
      next += count;
      keptAlive.push(...chunk);
      const ids = chunk.map((e) => e.id);
      pending
        .then((response) => resultOf(response, ids, now()))
        .catch((error: unknown): SendResult => ({ kind: 'retry', network: true, error: `unload keepalive failed: ${(error as Error)?.message ?? error}` }))
        .then((result) => {
          inflight -= bytes;
          requests--;
          internals.answer(chunk, result); // the page lived to see the answer: settle as a normal send
        })
        .catch(() => undefined);
    }
    report.keepalive = keptAlive.length;

    // 2. fetchLater: its own quota (64 KiB per origin incl. URL and headers); over it, it throws synchronously.
    const doLater = fetchLaterFn();
    let room = Math.min(FETCH_LATER_QUOTA_BYTES - FETCH_LATER_RESERVE - url.length, options.maxBatchBytes);
    while (doLater && next < events.length && requests < maxRequests) {
      let count = fit(room);
      let sent = false;
      while (count > 0) {
        const chunk = events.slice(next, next + count);
        try {
          // activateAfter 0: send now even if the page lives on (a hidden tab); it also goes if the page is destroyed.
          doLater(url, { method: 'POST', body: body(chunk).text, headers, activateAfter: 0 });
          unknownFate.push(...chunk);
          report.fetchLater += count;
          report.requests++;
          next += count;
          sent = true;
          break;
        } catch {
          count = Math.floor(count / 2); // QuotaExceededError: try a smaller chunk
        }
      }
      if (!sent) break;
      room = Math.min(room, fitBytes(count));
    }

    // 3. sendBeacon for the rest: `false` means over the budget: halve the chunk, down to one event.
    const doBeacon = beaconFn();
    let cap = Infinity; // after a refusal, never try a larger chunk again: the budget only shrinks
    while (doBeacon && next < events.length && requests < maxRequests) {
      // Our own in-flight bytes bound what is free from above (the host page may use some of the budget too).
      const count = Math.min(cap, fit(Math.min(budget - inflight, options.maxBatchBytes)));
      if (count === 0) break;
      const chunk = events.slice(next, next + count);
      const { text, bytes } = body(chunk);
      let ok = false;
      try {
        ok = doBeacon(url, text);
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

    // Marked first, so that a page gone before any answer leaves them stored with the time they were sent.
    const marked = [...keptAlive, ...unknownFate];
    const markSent = deps.storage?.markSent;
    if (marked.length > 0 && markSent) {
      markSent.call(deps.storage, marked.map((e) => e.id), now()).catch(() => undefined);
    }
    if (unknownFate.length > 0) internals.settle(unknownFate, 'sent', markSent !== undefined);
    const rest = events.slice(next);
    report.kept = rest.length + tried.length;
    internals.putBack(rest);
    internals.putBack(tried);
    return report;

    /** Bytes of the chunk just handed to fetchLater, so the next one is no larger (the quota only shrinks). */
    function fitBytes(n: number): number {
      let bytes = envelope;
      for (let k = next - n; k < next; k++) bytes += sizes[k]!;
      return bytes;
    }
  }

  return {
    send,
    reset() {
      attempted.clear();
    },
    inflightBytes: () => inflight,
  };
}

/**
 * Wires the unload path into a browser client: on `visibilitychange`→hidden or `pagehide` (whichever comes first;
 * on navigation `pagehide` does) sends the queue over the unload transports; on a restore from the back/forward
 * cache restarts normal sending. Returns `detach()`. Never throws into the page.
 */
export function attachUnload(
  internals: ClientInternals,
  storage?: Pick<Storage, 'markSent'>,
  deps: UnloadDeps & { targets?: LifecycleTargets } = {},
): () => void {
  const sender = createUnloadSender(internals, { storage, ...deps });
  const log = (...args: unknown[]) => {
    if (internals.options.debug) console.debug('[outbox]', ...args);
  };
  return watchLifecycle(
    {
      onHide({ via }) {
        try {
          const r = sender.send();
          if (r.requests > 0 || r.kept > 0) {
            log(`unload (${via}): keepalive ${r.keepalive}, fetchLater ${r.fetchLater}, beacon ${r.beacon}, kept ${r.kept} event(s) in ${r.requests} request(s)`);
          }
        } catch (error) {
          log('unload send failed:', error);
        }
      },
      onShow({ restored }) {
        sender.reset();
        // Back from the bfcache: timers resume by themselves, but what was put back at pagehide waits for a kick.
        if (restored) internals.kick('manual');
      },
    },
    deps.targets,
  );
}

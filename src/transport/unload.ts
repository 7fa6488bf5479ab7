import type { LeaveHooks } from '../core/client';
import { utf8Length } from '../core/encode';
import { errorText } from '../core/errors';
import type { SendResult, Storage, StoredEvent } from '../core/types';
import { createUuid } from '../core/uuid';
import { createReachability, documentReachability, type Reachability } from './reachability';
import { KEEPALIVE_BUDGET_BYTES, MAX_KEEPALIVE_REQUESTS, createKeepaliveBudget, documentBudget, type KeepaliveBudget } from './keepalive-budget';

export { KEEPALIVE_BUDGET_BYTES } from './keepalive-budget';

/**
 * The unload path: when the page is hidden or left, send what is queued with requests the browser finishes after
 * the document is gone, and leave the rest queued (and stored). Only what is queued goes: a normal request in
 * flight at `pagehide` was sent with keepalive when it fit (page-transport.ts) and completes by itself.
 *
 * Every request carries the wire's own URL and headers (Authorization, `Content-Type: application/json`), as a
 * normal send: keepalive `fetch` first (within the document's keepalive budget, shared with normal sends), then
 * `fetchLater` where it exists (its own quota). `sendBeacon` (text/plain, key as `?pk=`, no headers) only when the
 * page sends to a relay (`options.relay`), which accepts it; Langfuse answers every beacon 401.
 *
 * Records leave the queue one request at a time, right before it is handed to the network, so a handler cut short
 * (Firefox ends `pagehide` handlers early) leaves the rest for the `visibilitychange` that follows. Records whose
 * answer the page may never see are marked in storage with `markSent`, so a later load resends them only after
 * the grace period — unless the collector is unreachable now (the last send failed on the network): then nothing
 * is marked and the next load resends at once. Offline (`navigator.onLine` false) nothing is sent at all.
 * Platform facts: docs/platform-facts.md §1–2, §12 (Firefox).
 */

/** fetchLater's own quota per origin, counting URL + headers + body. */
const FETCH_LATER_QUOTA_BYTES = 65_536;

/**
 * A beacon gives no answer: its bytes are counted against the budget for this long after it was sent (ms).
 * Underestimating only costs a keepalive fetch that is refused and retried later, never a loss. @default 10 s
 */
const BEACON_HOLD_MS = 10_000;

const headerBytes = (headers: Record<string, string>) => Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);

/** The beacon URL: the endpoint with the public key as `?pk=` (a beacon cannot carry an Authorization header). */
export function unloadUrl(endpoint: string, publicKey?: string): string {
  if (!publicKey) return endpoint;
  return endpoint + (endpoint.includes('?') ? '&' : '?') + 'pk=' + encodeURIComponent(publicKey);
}

/** What one unload send did, in records. */
export interface UnloadReport {
  /** Sent by keepalive fetch (answer pending). */
  keepalive: number;
  /** Handed to fetchLater. */
  fetchLater: number;
  /** Accepted by sendBeacon. */
  beacon: number;
  /** Left in the queue (and so kept in storage): did not fit. */
  kept: number;
  /** Requests made. */
  requests: number;
}

/** Platform functions, injectable for tests. Each defaults to the global where it exists. */
export interface UnloadDeps {
  /** Where records whose answer may never be seen are marked (IndexedDB storage). */
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
  /** The keepalive accountant. @default documentBudget(), or a fresh one when budgetBytes/maxRequests are given */
  budget?: KeepaliveBudget;
  /** @default KEEPALIVE_BUDGET_BYTES */
  budgetBytes?: number;
  /** @default MAX_KEEPALIVE_REQUESTS */
  maxRequests?: number;
  /**
   * A service worker controls the page: it sees the answers to the requests in flight now even if this page does
   * not live to, and acknowledges them (storage/acks.ts), so those records are marked too and a later load waits for
   * the worker's word instead of resending them at once. @default () => false
   */
  controlled?: () => boolean;
  /** @default documentReachability() in a page, else a fresh tracker */
  reachability?: Reachability;
  /**
   * Waited for before the records of a keepalive that failed on the network are retried: Chromium rejects a page's
   * keepalive fetches when a navigation starts, though they still arrive (platform-facts §2), and one sent at
   * `beforeunload` is in flight then. Never resolving keeps them unsettled. @default retry at once
   */
  afterNetworkFailure?: () => Promise<void>;
}

/** Sends the client's queue over the unload transports. */
export interface UnloadSender {
  /**
   * Sends what is queued now, synchronously (a pagehide handler must not await), one request at a time. A transport
   * that refused since the last `reset()` is not tried again (so `pagehide` then `visibilitychange` costs no second
   * round of refusals).
   */
  send(): UnloadReport;
  /** The page is shown again: a later hide tries every transport again. */
  reset(): void;
  /** Keepalive + beacon body bytes counted in flight (this document's Outbox clients). */
  inflightBytes(): number;
  /**
   * Records handed to a keepalive fetch whose answer has not been seen, each with `sentAt` (epoch ms) when it went:
   * no longer queued, so the spill (which saves what IndexedDB has not committed) must add them — one sent at
   * `beforeunload` may still be uncommitted when the page goes — and keeps `sentAt`, so the next load treats them
   * as records marked sent, not as records never sent (platform/spill.ts).
   */
  unanswered(): (StoredEvent & { sentAt: number })[];
}

/** The relay the page sends to, if any (`relay` option): only a relay accepts beacons. */
export function relayOf(options: { relay?: string }): string | undefined {
  return options.relay !== undefined && options.relay !== '' ? options.relay : undefined;
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

/** Builds the unload sender for a client. Touches no global until `send()`. */
export function createUnloadSender(hooks: LeaveHooks, deps: UnloadDeps = {}): UnloadSender {
  const options = hooks.options;
  const now = deps.now ?? Date.now;
  const later = deps.setTimeout ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
  const uuid = deps.uuid ?? createUuid();
  const budget =
    deps.budget ??
    (deps.budgetBytes !== undefined || deps.maxRequests !== undefined
      ? createKeepaliveBudget(deps.budgetBytes ?? KEEPALIVE_BUDGET_BYTES, deps.maxRequests ?? MAX_KEEPALIVE_REQUESTS)
      : documentBudget());
  const reachability = deps.reachability ?? (typeof window !== 'undefined' ? documentReachability() : createReachability());
  /** Transports that refused since the last reset(). */
  const refused = { keepalive: false, fetchLater: false, beacon: false };
  /** Records in a keepalive fetch whose answer is not seen yet → when it went (epoch ms). */
  const waiting = new Map<StoredEvent, number>();
  /** fetchLater bytes (body + URL + headers) handed over by this sender. */
  let laterUsed = 0;

  // ---- one send(): what it did, and what its channels hand to the next ----
  let report: UnloadReport = { keepalive: 0, fetchLater: 0, beacon: 0, kept: 0, requests: 0 };
  /** The collector looked unreachable when the send began. */
  let unreachable = false;
  /** Ids to mark sent in storage. */
  let marked: string[] = [];
  /** Records handed over whose answer is never seen. */
  let unknownFate: StoredEvent[] = [];
  /** Caps a chunk's size at `maxBatchBytes`. */
  const cap = (n: number) => Math.min(n, options.maxBatchBytes);

  function send(): UnloadReport {
    const fns = platformFns(deps);
    report = { keepalive: 0, fetchLater: 0, beacon: 0, kept: 0, requests: 0 };
    unreachable = reachability.unreachable();
    marked = [];
    unknownFate = [];
    // Offline (navigator.onLine false): no request can arrive, so none is made and nothing is marked; the records
    // stay stored for the next load. Firefox's offline emulation let such a keepalive through at a close (467
    // records arrived while offline, then sent again by the next load: platform-facts §12).
    if (!reachability.offline()) {
      sendByKeepalive(fns.fetch);
      sendByFetchLater(fns.later);
      if (relayOf(options)) sendByBeacon(fns.beacon);
    }

    // One IndexedDB write for the marks: a page gone before any answer leaves them stored with the time they went.
    for (const e of unknownFate) marked.push(e.id);
    if (deps.controlled?.()) marked.push(...hooks.inflightIds());
    const markSent = deps.storage?.markSent;
    if (marked.length > 0 && markSent && !unreachable) markSent.call(deps.storage, marked, now()).catch(() => undefined);
    if (unknownFate.length > 0) hooks.settle(unknownFate, 'sent', markSent !== undefined);
    report.kept = hooks.queuedCount();
    return report;
  }

  /**
   * Channel 1 of the unload path: keepalive fetch with the wire's URL and headers, within the keepalive budget, as
   * much as fits; its answer is seen while the page lives and settles the records as a normal send.
   */
  function sendByKeepalive(fetchFn: ((url: string, init: RequestInit) => Promise<Response>) | undefined): void {
    while (fetchFn && !refused.keepalive) {
      const chunk = hooks.takeFront(() => cap(budget.free()));
      if (!chunk) break;
      const { wire, events } = chunk;
      const text = wire.encodeBatch(uuid(), events);
      const release = budget.reserve(utf8Length(text));
      if (!release) {
        hooks.putBack(events);
        break;
      }
      let pending: Promise<Response>;
      try {
        pending = fetchFn(wire.url, { method: 'POST', keepalive: true, body: text, headers: { ...wire.headers } });
      } catch {
        release();
        hooks.putBack(events);
        refused.keepalive = true; // a fetch without keepalive support may throw: leave the rest to the others
        break;
      }
      report.requests++;
      report.keepalive += events.length;
      const at = now();
      for (const e of events) {
        marked.push(e.id);
        waiting.set(e, at);
      }
      const ids = events.map((e) => e.id);
      pending
        .then((response) => wire.answer(response, ids, now()))
        .catch(async (error: unknown): Promise<SendResult> => {
          await deps.afterNetworkFailure?.();
          return { kind: 'retry', network: true, error: `unload keepalive failed: ${errorText(error)}` };
        })
        .then((result) => {
          release();
          for (const e of events) waiting.delete(e);
          reachability.note(result);
          hooks.answer(events, result); // the page lived to see the answer: settle as a normal send
        })
        .catch(() => undefined);
    }
  }

  /**
   * Channel 2 of the unload path: fetchLater, as much as fits its own quota (64 KiB per origin incl. URL and
   * headers; over it, it throws synchronously). Its answer is never seen: not while the collector looks
   * unreachable (the records stay unmarked, queued).
   */
  function sendByFetchLater(laterFn: ((url: string, init: RequestInit & { activateAfter?: number }) => unknown) | null): void {
    let laterRoom = Infinity;
    while (laterFn && !refused.fetchLater && !unreachable) {
      const chunk = hooks.takeFront((wire) => cap(Math.min(laterRoom, FETCH_LATER_QUOTA_BYTES - laterUsed - wire.url.length - headerBytes(wire.headers))));
      if (!chunk) {
        refused.fetchLater ||= laterRoom !== Infinity;
        break;
      }
      const { wire, events } = chunk;
      const text = wire.encodeBatch(uuid(), events);
      try {
        // activateAfter 0: send now even if the page lives on (a hidden tab); it also goes if the page is destroyed.
        laterFn(wire.url, { method: 'POST', body: text, headers: { ...wire.headers }, activateAfter: 0 });
      } catch {
        hooks.putBack(events);
        const bytes = utf8Length(text);
        if (bytes < 1024) {
          refused.fetchLater = true; // QuotaExceededError even for a small body (or no support at all)
          break;
        }
        laterRoom = Math.floor(bytes / 2); // over the quota: try a smaller chunk
        continue;
      }
      laterUsed += utf8Length(text) + wire.url.length + headerBytes(wire.headers);
      unknownFate.push(...events);
      report.fetchLater += events.length;
      report.requests++;
    }
  }

  /**
   * Channel 3 of the unload path: sendBeacon, only toward a relay (the caller checks), as much as fits the keepalive
   * budget: text/plain with the key as ?pk=. `false` means over the budget.
   */
  function sendByBeacon(beaconFn: ((url: string, data: string) => boolean) | null): void {
    let beaconRoom = Infinity;
    while (beaconFn && !refused.beacon && !unreachable) {
      const chunk = hooks.takeFront(() => cap(Math.min(beaconRoom, budget.free())));
      if (!chunk) {
        refused.beacon ||= beaconRoom !== Infinity; // halved below one record: the budget is spent
        break;
      }
      const { wire, events } = chunk;
      const text = wire.encodeBatch(uuid(), events);
      const bytes = utf8Length(text);
      const release = budget.reserve(bytes);
      let ok = false;
      try {
        ok = release !== undefined && beaconFn(unloadUrl(wire.url, hooks.options.publicKey), text);
      } catch {
        ok = false;
      }
      if (!ok) {
        release?.();
        hooks.putBack(events);
        if (events.length <= 1) {
          refused.beacon = true;
          break;
        }
        beaconRoom = Math.floor(bytes / 2); // never a larger chunk again: the budget only shrinks
        continue;
      }
      later(() => release!(), BEACON_HOLD_MS);
      unknownFate.push(...events);
      report.beacon += events.length;
      report.requests++;
    }
  }

  return {
    send,
    reset() {
      refused.keepalive = refused.fetchLater = refused.beacon = false;
    },
    inflightBytes: () => budget.inflight(),
    unanswered: () => [...waiting].map(([e, sentAt]) => ({ ...e, sentAt })),
  };
}

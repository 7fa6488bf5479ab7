import type { LeaveHooks } from '../core/client';
import type { Storage } from '../core/types';
import { createUuid } from '../core/uuid';
import { createReachability, documentReachability, type Reachability } from './reachability';
import { KEEPALIVE_BUDGET_BYTES, MAX_KEEPALIVE_REQUESTS, createKeepaliveBudget, documentBudget, type KeepaliveBudget } from './keepalive-budget';
import { sendByBeacon } from './unload-beacon';
import { sendByKeepalive } from './unload-keepalive';
import { sendByFetchLater } from './unload-later';
import type { UnloadReport, UnloadState, UnloadTools } from './unload-round';

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
 * the grace period — unless the collector is unreachable now (offline, or the last send failed on the network):
 * then nothing is marked and the next load resends at once. Platform facts: docs/platform-facts.md §1–2.
 */

export { unloadUrl } from './unload-beacon';
export type { UnloadReport } from './unload-round';

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
  const tools: UnloadTools = { budget, reachability, now, setTimeout: later, uuid };
  const refused = { keepalive: false, fetchLater: false, beacon: false };
  const laterUsed = { bytes: 0 };

  function send(): UnloadReport {
    const fns = platformFns(deps);
    const state: UnloadState = {
      report: { keepalive: 0, fetchLater: 0, beacon: 0, kept: 0, requests: 0 },
      refused,
      laterUsed,
      unreachable: reachability.unreachable(),
      marked: [],
      unknownFate: [],
      cap: (n) => Math.min(n, options.maxBatchBytes),
    };
    sendByKeepalive(hooks, tools, state, fns.fetch);
    sendByFetchLater(hooks, tools, state, fns.later);
    if (relayOf(options)) sendByBeacon(hooks, tools, state, fns.beacon);

    // One IndexedDB write for the marks: a page gone before any answer leaves them stored with the time they went.
    const { marked, unknownFate, unreachable, report } = state;
    for (const e of unknownFate) marked.push(e.id);
    if (deps.controlled?.()) marked.push(...hooks.inflightIds());
    const markSent = deps.storage?.markSent;
    if (marked.length > 0 && markSent && !unreachable) markSent.call(deps.storage, marked, now()).catch(() => undefined);
    if (unknownFate.length > 0) hooks.settle(unknownFate, 'sent', markSent !== undefined);
    report.kept = hooks.queuedCount();
    return report;
  }

  return {
    send,
    reset() {
      refused.keepalive = refused.fetchLater = refused.beacon = false;
    },
    inflightBytes: () => budget.inflight(),
  };
}

import type { ResolvedOptions } from '../core/options';
import type { Transport } from '../core/types';
import { createFetchTransport } from '../transport/fetch';
import { documentBudget, type KeepaliveBudget } from '../transport/keepalive-budget';
import { nextHide, nextRestore, type HideOutcome } from './lifecycle';
import { documentReachability, type Reachability } from '../transport/reachability';

/**
 * How long a request that failed on the network waits for a `pagehide` before its records are retried.
 * Chromium rejects a page's in-flight fetches when a navigation away starts, before `pagehide`, though a
 * keepalive request goes on in the browser and arrives (measured: 60 of 200 records sent twice per navigation
 * when they were retried at once). @default 250 ms
 */
export const KEEPALIVE_FAILURE_HOLD_MS = 250;

/**
 * The page's normal transport: the fetch transport, sending with `keepalive: true` whenever the body fits the
 * document's keepalive budget (shared with the unload path), so a request in flight when the page goes away
 * completes by itself and the unload path never has to send its records again; every answer feeds the page's
 * reachability (read by the unload path).
 */
export function createPageTransport(
  options: Pick<ResolvedOptions, 'requestTimeoutMs' | 'compression'>,
  parts: {
    budget?: KeepaliveBudget;
    reachability?: Reachability;
    fetch?: typeof fetch;
    nextHide?: (ms: number) => Promise<HideOutcome>;
    nextRestore?: () => Promise<void>;
    /** Told when a send has ended (the browser entry disarms its beforeunload guard when nothing is left queued). */
    afterSend?: () => void;
    /**
     * Told the ids of a send as it starts, when no worker controls the page; the function it returns is called once
     * the page knows the send's fate (not when the page went first). See platform/inflight.ts.
     */
    noteSending?: (ids: string[]) => false | (() => void);
  } = {},
): Transport {
  const hide = parts.nextHide ?? nextHide;
  const restore = parts.nextRestore ?? nextRestore;
  const budget = parts.budget ?? documentBudget();
  const reachability = parts.reachability ?? documentReachability();
  const inner = createFetchTransport({
    timeoutMs: options.requestTimeoutMs,
    // 'auto' does not gzip in a page: CompressionStream is asynchronous, and a body still being compressed when the
    // page navigates away is never sent (measured: 0 of 200 spans arrived, against 200/200 uncompressed). The relay
    // gzips toward Langfuse itself.
    compression: options.compression === 'auto' ? 'none' : options.compression,
    fetch: parts.fetch,
    // Not under a service worker: Firefox ESR 153 does not hand a controlled page's keepalive fetch to the worker's
    // fetch handler (the hand-off spec went from 100/100 to 0/100 handed off), so controlled pages send plainly.
    keepalive: (bytes) => (controlled() ? undefined : budget.reserveForSend(bytes)),
  });
  return {
    async send(batch) {
      const sent = !controlled() && parts.noteSending?.(batch.events.map((e) => e.id));
      const result = await inner.send(batch);
      // The note goes once the page knows the send's fate: a network failure counts as failed, even though a
      // navigation starting now may have rejected a keepalive that still arrives (the hold below; a crash in it would
      // otherwise wait out the grace for records that most likely never arrived).
      if (sent) sent();
      if (result.kind === 'retry' && result.network && !result.error.includes('timed out')) await failureHold(hide, restore);
      reachability.note(result);
      parts.afterSend?.();
      return result;
    },
  };
}

/**
 * After a request failed on the network: its fate is unknown if the page is leaving, the browser may still deliver
 * it. Resolves when its records may be retried: at once if no `pagehide` comes within KEEPALIVE_FAILURE_HOLD_MS,
 * after the restore if the page went into the back/forward cache, never if it went for good (the records stay
 * stored; a later load sends them). Used by the normal sends and by the unload path's keepalives (one sent at
 * `beforeunload` is rejected like the others when the navigation starts).
 */
export async function failureHold(hide: (ms: number) => Promise<HideOutcome> = nextHide, restore: () => Promise<void> = nextRestore): Promise<void> {
  const outcome = await hide(KEEPALIVE_FAILURE_HOLD_MS);
  if (outcome === 'gone') await new Promise<never>(() => undefined);
  if (outcome === 'cached') await restore();
}

/** True when a service worker controls this page (reading it throws in opaque-origin documents). */
export function controlled(): boolean {
  try {
    return typeof navigator !== 'undefined' && !!navigator.serviceWorker?.controller;
  } catch {
    return false;
  }
}

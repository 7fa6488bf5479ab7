import type { ResolvedOptions } from '../core/options';
import type { OutgoingBatch, SendResult, Transport } from '../core/types';
import { createFetchTransport } from '../transport/fetch';
import { documentBudget, type KeepaliveBudget } from '../transport/keepalive-budget';
import { nextHide, nextRestore, type HideOutcome } from './lifecycle';
import { documentReachability, type Reachability } from '../transport/reachability';
import type { AskRelay } from './receipts';

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
    /**
     * With a relay: asked before sending again records whose last send failed on the network (its request may
     * have arrived: a worker that died forwarding it, a navigation that cut the page's fetch). Those it took are
     * acknowledged without a resend.
     */
    receipts?: AskRelay;
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
  /** Ids whose last send failed on the network: their request may have arrived (owned here, one entry per record). */
  const unknown = new Set<string>();
  /** With a relay: a batch holding such ids asks it first; the answer that settles the batch, or undefined to send. */
  async function receiptsFirst(batch: OutgoingBatch): Promise<SendResult | undefined> {
    const ask = batch.events.filter((e) => unknown.has(e.id));
    for (const e of batch.events) unknown.delete(e.id);
    if (ask.length === 0) return undefined;
    const taken = await parts.receipts!(ask).catch(() => undefined);
    if (taken === 'down') {
      // The relay is unreachable: a resend now would fail as well (and cost a request); ask again next time.
      for (const e of ask) unknown.add(e.id);
      return { kind: 'retry', network: true, error: 'the relay did not answer (receipts query before a resend)' };
    }
    if (!taken || taken.size === 0) return undefined;
    // The relay has these: acknowledged, the rest sent again as a 207's failed ones would be.
    const retry = batch.events.filter((e) => !taken.has(e.id)).map((e) => e.id);
    return retry.length === 0 ? { kind: 'ok' } : { kind: 'partial', retry, rejected: [] };
  }
  return {
    async send(batch) {
      const known = parts.receipts && (await receiptsFirst(batch));
      if (known) {
        reachability.note(known);
        parts.afterSend?.();
        return known;
      }
      const sent = !controlled() && parts.noteSending?.(batch.events.map((e) => e.id));
      const result = await inner.send(batch);
      if (parts.receipts && result.kind === 'retry' && result.network) for (const e of batch.events) unknown.add(e.id);
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

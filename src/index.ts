/**
 * Browser entry (`outbox`): the queue is written ahead to IndexedDB (`storage: 'memory'` opts out), sent with
 * fetch, and what is left when the page hides goes out by keepalive fetch / beacon. Relative endpoints resolve
 * against the page. A secret key is refused here: anything shipped to a page is public.
 */
import { assemble, detachChain, tracingOf } from './create';
import { OutboxOptionsError, type OutboxOptions } from './core/options';
import type { Outbox } from './trace/types';
import { createDurableQueue, durableStorageOf } from './platform/durable';
import { attachUnload } from './platform/leave';
import { createPageTransport } from './platform/page-transport';
import { attachServiceWorkerReplay } from './platform/service-worker';

export type { OutboxOptions } from './core/options';
export type { DropInfo, DropReason, OutboxStats, TrackOptions } from './core/types';
export type {
  ActiveStartOptions,
  AttributesOf,
  GenerationAttributes,
  Observation,
  ObservationAttributes,
  ObservationLevel,
  ObservationType,
  ObserveOptions,
  Outbox,
  ParentSpanContext,
  PropagatedAttributes,
  ScoreInput,
  SpanAttributes,
  StartOptions,
  TraceAttributes,
  TracingCalls,
} from './trace/types';
export { OutboxOptionsError } from './core/options';

/** Creates a client. Throws OutboxOptionsError for invalid options (and only then). */
export function createOutbox(options: OutboxOptions): Outbox {
  const baseUrl = typeof location !== 'undefined' ? location.href : undefined;
  const durable = createDurableQueue(); // IndexedDB write-ahead + recovery; `storage: 'memory'` opts out
  const teardown = detachChain();
  const { outbox, hooks } = assemble(options, {
    baseUrl,
    otlpAuthHint:
      'traces from a page need outbox/relay: Langfuse takes spans only with the secret key, which must never be shipped to a page; set relay (see the README)',
    // The page's transport draws on the document's keepalive budget, shared with the unload path.
    platform: (o) => ({ ...(typeof fetch === 'function' ? { transport: createPageTransport(o) } : {}), ...durable.platform(o), onShutdown: teardown.run }),
    check(o) {
      if (o.secretKey !== undefined) {
        throw new OutboxOptionsError(
          'createOutbox: invalid options: secretKey must not be used in a browser page (it would be public); use publicKey here and keep secretKey on a server or Worker',
        );
      }
    },
  });
  // Registered before the unload path (both capture listeners on window): observations still open when the page
  // goes away for good become spans now, so the unload path and the spill carry them.
  teardown.add(endOpenAtPagehide(outbox));
  teardown.add(durable.start(hooks, outbox));
  // Automatic: if an outbox service worker controls the page, ask it to replay now and on `online`.
  teardown.add(attachServiceWorkerReplay());
  // On hide/pagehide: keepalive + beacon within the 64 KiB budget; what does not fit stays stored.
  teardown.add(attachUnload(hooks, durableStorageOf(outbox)));
  return outbox;
}

/**
 * At a `pagehide` that is not for the back/forward cache the page is gone for good: every open observation is
 * ended now, once, with level WARNING and a statusMessage saying so. (A bfcache page may come back and end them
 * itself; a renderer crash leaves no moment to do this.) Returns `detach()`.
 */
function endOpenAtPagehide(outbox: Outbox): () => void {
  if (typeof addEventListener !== 'function') return () => {};
  const onPageHide = (event: Event) => {
    if ((event as PageTransitionEvent).persisted) return;
    try {
      tracingOf.get(outbox)?.endOpen('ended by Outbox: the page went away before end() was called');
    } catch {
      /* never into the page */
    }
  };
  addEventListener('pagehide', onPageHide, { capture: true });
  return () => removeEventListener('pagehide', onPageHide, { capture: true });
}

/**
 * Browser entry (`outbox`): the queue is written ahead to IndexedDB (`storage: 'memory'` opts out), sent with
 * fetch, and what is left when the page hides goes out by keepalive fetch / beacon. Relative endpoints resolve
 * against the page. A secret key is refused here: anything shipped to a page is public.
 */
import { assemble, detachChain } from './create';
import { OutboxOptionsError, type OutboxOptions } from './core/options';
import type { Outbox } from './trace/types';
import { createDurableQueue } from './platform/durable';
import { unloadSteps } from './platform/leave';
import { beforeUnloadGuard, pageSequence, watchLifecycle } from './platform/lifecycle';
import { createPageTransport } from './platform/page-transport';
import { noteSending } from './platform/inflight';
import { attachServiceWorkerReplay } from './platform/service-worker';
import { ownTask } from './platform/own-task';
import { receiptsOf } from './platform/receipts';

export type * from './public-types';
export { OutboxOptionsError } from './core/options';

/** Creates a client. Throws OutboxOptionsError for invalid options (and only then). */
export function createOutbox(options: OutboxOptions): Outbox {
  const baseUrl = typeof location !== 'undefined' ? location.href : undefined;
  const durable = createDurableQueue(); // IndexedDB write-ahead + recovery; `storage: 'memory'` opts out
  const teardown = detachChain();
  // A beforeunload listener only while records are queued (platform/lifecycle.ts): it sends them before a
  // navigation's pagehide, and its absence the rest of the time keeps the page fit for the back/forward cache.
  // (Both closures run only after assemble() returned: at a send's end, at a beforeunload.)
  const disarmWhenIdle = () => hooks.queuedCount() > 0 || guard.disarm();
  // At beforeunload the spill is written too, before the send: Firefox waits for a beforeunload listener but may
  // cut the pagehide one short before its spill is written (platform-facts §12); pagehide rewrites it. After a
  // send it is written again, now with what the keepalive carries marked sent (spill.ts): left unmarked, the next
  // load sent those records again at once, a duplicate of every round the keepalive had delivered.
  const guard = beforeUnloadGuard(() => {
    recovery.steps.spill?.(false);
    unload.unload('beforeunload');
    if (unload.unanswered().length > 0) recovery.steps.spill?.(false);
    disarmWhenIdle();
  });
  const { outbox, hooks, endOpen } = assemble(options, {
    baseUrl,
    otlpAuthHint:
      'traces from a page need outbox/relay: Langfuse takes spans only with the secret key, which must never be shipped to a page; set relay (see the README)',
    // The page's transport draws on the document's keepalive budget, shared with the unload path.
    platform: (o) => ({
      // Without a worker, sends are noted in flight (platform/inflight.ts) when there is durable storage to recover.
      // With a relay, records whose send failed on the network are checked against its receipts before a resend.
      ...(typeof fetch === 'function'
        ? {
            transport: createPageTransport(o, {
              afterSend: disarmWhenIdle,
              noteSending: (ids) => !!durable.storage() && noteSending(ids),
              receipts: receiptsOf(o),
            }),
          }
        : {}),
      ...durable.platform(o),
      onQueued: guard.arm,
      // The write-ahead and the sends a call sets off run in the client's own task, not the caller's (docs/browser.md).
      nextTask: ownTask(),
      onShutdown: teardown.run,
    }),
    check(o) {
      if (o.secretKey !== undefined) {
        throw new OutboxOptionsError(
          'createOutbox: invalid options: secretKey must not be used in a browser page (it would be public); use publicKey here and keep secretKey on a server or Worker',
        );
      }
    },
  });
  const unload = unloadSteps(hooks, durable.storage());
  // The pagehide spill saves what IndexedDB has not committed: what is held, and what a keepalive sent at
  // beforeunload carries with no answer yet (no longer queued: it would be lost if neither arrives nor commits).
  const recovery = durable.start({ ...hooks, held: () => [...hooks.held(), ...unload.unanswered()] }, outbox);
  teardown.add(recovery.detach);
  // Automatic: if an outbox service worker controls the page, ask it to replay now and on `online`.
  teardown.add(attachServiceWorkerReplay());
  // The page's lifecycle, one sequence (platform/lifecycle.ts): at hide, open observations end (pagehide for
  // good), recovery spills what is not committed, the unload path sends what fits the keepalive budgets, recovery
  // writes what is pending and, into the back/forward cache, parks; at show the same in reverse.
  teardown.add(guard.disarm);
  teardown.add(
    watchLifecycle(
      pageSequence({
        endOpen: () => void endOpen('ended by Outbox: the page went away before end() was called'),
        unload: unload.unload,
        resume: unload.resume,
        ...recovery.steps,
      }),
    ),
  );
  return outbox;
}

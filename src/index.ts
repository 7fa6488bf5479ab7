/**
 * Browser entry (`outbox`): the queue is written ahead to IndexedDB (`storage: 'memory'` opts out), sent with
 * fetch, and what is left when the page hides goes out by keepalive fetch / beacon. Relative endpoints resolve
 * against the page. A secret key is refused here: anything shipped to a page is public.
 */
import { assemble, detachChain } from './create';
import { OutboxOptionsError, type OutboxOptions } from './core/options';
import type { Outbox } from './core/types';
import { createDurableQueue, durableStorageOf } from './platform/durable';
import { attachUnload } from './platform/leave';
import { attachServiceWorkerReplay } from './platform/service-worker';

export type { OutboxOptions } from './core/options';
export type { DropInfo, DropReason, Outbox, OutboxStats, TrackOptions } from './core/types';
export { OutboxOptionsError } from './core/options';
/** @internal For benchmarks and tests: the IndexedDB storage behind a client (`transactions`, `size()`). */
export { durableStorageOf } from './platform/durable';

/** Creates a client. Throws OutboxOptionsError for invalid options (and only then). */
export function createOutbox(options: OutboxOptions): Outbox {
  const baseUrl = typeof location !== 'undefined' ? location.href : undefined;
  const durable = createDurableQueue(); // IndexedDB write-ahead + recovery; `storage: 'memory'` opts out
  const teardown = detachChain();
  const { outbox, hooks } = assemble(options, {
    baseUrl,
    platform: (o) => ({ ...durable.platform(o), onShutdown: teardown.run }),
    check(o) {
      if (o.secretKey !== undefined) {
        throw new OutboxOptionsError(
          'createOutbox: invalid options: secretKey must not be used in a browser page (it would be public); use publicKey here and keep secretKey on a server or Worker',
        );
      }
    },
  });
  teardown.add(durable.start(hooks, outbox));
  // Automatic: if an outbox service worker controls the page, ask it to replay now and on `online`.
  teardown.add(attachServiceWorkerReplay());
  // On hide/pagehide: keepalive + beacon within the 64 KiB budget; what does not fit stays stored.
  teardown.add(attachUnload(hooks, durableStorageOf(outbox)));
  return outbox;
}

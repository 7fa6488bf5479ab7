/// <reference lib="webworker" />
/**
 * Service-worker entry (`outbox/sw`): takes over batches the page could not deliver and replays them with the
 * Background Sync API, through `workbox-background-sync`'s `Queue` (its IndexedDB storage and sync registration)
 * but with our own replay: Workbox's default replay treats any HTTP answer, even a 500, as delivered.
 *
 * One owner at a time: the page deletes a batch only when it gets our `202` + `Outbox-Queued: 1`, and we answer
 * that only after the request is stored; if storing fails the page gets a network error and keeps the batch.
 */
import { Queue } from 'workbox-background-sync';
import { drainQueue } from './drain';
import { singleFlight } from './single-flight';
import { handOff, whenSettled } from './handoff';
import { sweepAcks } from '../storage/acks';
import { resolveSyncOptions, type OutboxSyncOptions, type SwDropInfo } from './config';
import { DELIVERED_MESSAGE_TYPE, DROPPED_MESSAGE_TYPE, REPLAY_MESSAGE_TYPE, SETTLE_MESSAGE_TYPE } from '../wire/sw-messages';

declare const self: ServiceWorkerGlobalScope;

export type { OutboxSyncOptions, SwDropInfo, SwDropReason } from './config';

/** What {@link installOutboxSync} returns. */
export interface OutboxSync {
  /** The Workbox queue holding the requests. */
  readonly queue: Queue;
  /** Sync tag registered with the SyncManager. */
  readonly tag: string;
  /** Replays the queue now (one replay at a time; concurrent calls share it). Rejects when a request must wait for a later retry. */
  replay(): Promise<void>;
}


/** The Background Sync event (not in TypeScript's webworker lib). */
interface SyncEvent extends ExtendableEvent {
  readonly tag: string;
  readonly lastChance: boolean;
}


/**
 * Installs the hand-off and replay into this service worker; call once per queue name at the top level of the
 * worker script (listeners must exist at evaluation time). Throws a TypeError for invalid options.
 */
export function installOutboxSync(options: OutboxSyncOptions): OutboxSync {
  const { queueName, retentionMs, timeoutMs, target, tag, receipts } = resolveSyncOptions(options);
  /** Rows this worker's sends got a refusal for (drain.ts): no receipts query before their next send. */
  const refused = new Set<number>();

  // Registered before the Queue's own listener, so it runs first: remembers whether this is the browser's last
  // attempt. A failed last-chance sync keeps every request (never drops) and registers a new sync, since the
  // browser will not retry that one; worker start and page messages still replay too.
  let lastChance = false;
  self.addEventListener('sync', (event) => {
    const e = event as SyncEvent;
    if (e.tag === tag) lastChance = e.lastChance;
  });

  function report(info: SwDropInfo): void {
    try {
      options.onDrop?.(info);
    } catch {
      /* a host callback must not break the replay */
    }
    void tell({ type: DROPPED_MESSAGE_TYPE, ...info });
  }

  // One replay at a time; defined before the Queue and deferred a tick, because without a SyncManager Workbox
  // calls onSync from inside the Queue constructor, before `queue` is assigned.
  const replay = singleFlight(
    async () => {
      let delivered = 0;
      try {
        delivered = await drainQueue(queue, { queueName, retentionMs, timeoutMs, report, lastChance: () => lastChance, receipts, refused });
      } catch (error) {
        delivered = (error as { delivered?: number }).delivered ?? 0; // what went out before the one that must wait
        if (lastChance) await queue.registerSync();
        throw error;
      } finally {
        if (delivered > 0) void tell({ type: DELIVERED_MESSAGE_TYPE, count: delivered });
      }
    },
    () => (lastChance = false),
  );

  const queue: Queue = new Queue(queueName, {
    forceSyncFallback: options.forceSyncFallback,
    // Expiry is ours (sweepExpired counts what it drops); Workbox would drop old requests silently in shift.
    maxRetentionTime: Infinity,
    onSync: () => replay(),
  });

  self.addEventListener('fetch', (event) => {
    const request = event.request;
    if (request.method !== 'POST') return;
    const url = new URL(request.url);
    if (url.origin !== target.origin || url.pathname.replace(/\/$/, '') !== target.pathname.replace(/\/$/, '')) return;
    event.respondWith(handOff(request, queue, receipts));
  });

  self.addEventListener('message', (event) => {
    const data = event.data as { type?: unknown } | null;
    if (data && typeof data === 'object' && data.type === REPLAY_MESSAGE_TYPE) event.waitUntil(replay().catch(() => undefined));
    const port = event.ports[0];
    if (data?.type === SETTLE_MESSAGE_TYPE && port) {
      // A recovering page asks before it resends: true when none of its ids is being forwarded, else false, then
      // true once those forwards are answered and acknowledged.
      const settled = whenSettled((data as { ids?: unknown[] }).ids ?? []);
      port.postMessage(!settled);
      if (settled) event.waitUntil(settled.then(() => port.postMessage(true)));
    }
  });

  // Worker start: the only replay trigger besides page messages where there is no SyncManager (Safari,
  // Firefox); harmless elsewhere (an empty queue, or one replay shared with a sync event).
  void replay().catch(() => undefined);
  void sweepAcks(Date.now()).catch(() => undefined);

  return { queue, tag, replay };
}

/** Posts to every page of this worker's scope, controlled or not. */
async function tell(message: Record<string, unknown>): Promise<void> {
  try {
    for (const client of await self.clients.matchAll({ includeUncontrolled: true, type: 'window' })) client.postMessage(message);
  } catch {
    /* no client to tell */
  }
}

import type { Platform, RecoveryHooks } from '../core/client';
import type { ResolvedOptions } from '../core/options';
import type { Outbox } from '../trace/types';
import { RELAY_SENT_GRACE_MS, SENT_GRACE_MS, createIndexedDbStorage, type IndexedDbStorage } from '../storage/indexeddb';
import { sentNotes } from '../storage/sent-notes';
import { relayOf } from '../transport/unload';
import { createTabLock, newTabId, type TabLock } from './tabs';
import type { PageSteps } from './lifecycle';
import { startRecovery } from './recovery';
import { receiptsOf } from './receipts';
import { parkNotes } from './spill';
import { inflightNotes } from './inflight';

/**
 * The browser's durable queue: IndexedDB write-ahead storage owned by this client (a Web Lock per client), plus
 * recovery of what gone clients left behind — at start, on the page's `online` event, and when beaconed events'
 * grace period ends. One client at a time recovers (lock `outbox:drain`), so two live tabs never send the same
 * stored batch.
 *
 * Without Web Locks the single-owner rule is a heartbeat: a client with stored segments rewrites `h:<id>` every
 * 20 s (and in every write), and another client adopts its segments only once that heartbeat is 3 minutes old;
 * the check and the adoption happen in one IndexedDB readwrite transaction, which IndexedDB serializes, so two
 * clients can never adopt the same segment. A tab frozen for longer than that may later resend what was adopted:
 * a duplicate the collector drops by id, never a loss.
 */
export interface DurableQueue {
  /** Platform parts for `assemble()`: the IndexedDB storage, or nothing (memory only). */
  platform(options: ResolvedOptions): Partial<Platform>;
  /** The IndexedDB storage `platform()` made, if any (the unload path marks records in it). */
  storage(): IndexedDbStorage | undefined;
  /**
   * Starts recovery for the client built with `platform()`; a no-op when memory only. Never throws. Returns
   * `detach()`, which removes the listeners and timers it added (the client calls it at shutdown, before storage
   * closes), and recovery's steps in the page's lifecycle sequence (none when memory only).
   */
  start(hooks: RecoveryHooks, outbox: Outbox): { detach: () => void; steps: PageSteps };
}

/** Where the browser entry's events live: database `outbox`, object store `segments`. */
export const DURABLE_DB_NAME = 'outbox';

/** For src/testing.ts only (benchmarks and tests, not shipped): a client's storage, found by its public object. */
const byOutbox = new WeakMap<Outbox, IndexedDbStorage>();

/**
 * The IndexedDB storage behind a client (for the benchmark and tests: `transactions`, `size()`), or undefined
 * when it runs memory-only. Not used by the entries, which hand the storage on through `DurableQueue.storage()`.
 */
export function durableStorageOf(outbox: Outbox): IndexedDbStorage | undefined {
  return byOutbox.get(outbox);
}

/** Creates the durable queue for one browser client. `storage: 'memory'` or no `indexedDB` global opts out. */
export function createDurableQueue(setup: { dbName?: string } = {}): DurableQueue {
  let storage: IndexedDbStorage | undefined;
  let tab: TabLock | null = null;
  let owner = '';
  let options: ResolvedOptions | undefined;
  /** The sent-grace of this client's store, honoured by its spills too. */
  let graceMs = SENT_GRACE_MS;

  function report(error: unknown, what: string): void {
    const err = new Error(`${what}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    if (options?.debug) console.debug('[outbox]', 'error:', err.message);
    try {
      options?.onError?.(err);
    } catch {
      /* a host callback must not break the client */
    }
  }

  return {
    platform(resolved) {
      options = resolved;
      if (resolved.storage === 'memory' || typeof indexedDB === 'undefined') return {};
      owner = newTabId();
      tab = createTabLock(owner);
      const lock = tab;
      // A relay deduplicates by id: a record whose answer was never seen (unload, crash) may be resent sooner there.
      graceMs = resolved.timing.sentGraceMs ?? (relayOf(resolved) ? RELAY_SENT_GRACE_MS : SENT_GRACE_MS);
      storage = createIndexedDbStorage({
        owner,
        dbName: setup.dbName ?? DURABLE_DB_NAME,
        graceMs,
        liveOwners: lock ? () => lock.liveOwners() : undefined,
        parkNotes,
        // The unload path's sent-marks, in localStorage: written synchronously, they survive the document's end.
        sentNotes,
        // Without a worker, the page's in-flight notes (platform/inflight.ts): a crash leaves no sent-mark.
        inflightNotes: () => inflightNotes(graceMs),
        // Never store a segment this client cannot prove it owns: another tab would take it for orphaned.
        ready: () =>
          (lock ? lock.held : Promise.resolve(true)).then((ok) => {
            if (!ok) throw new Error('the Web Lock for this tab could not be taken; events stay in memory');
          }),
        // Only once what this client leaves is written may another tab adopt it.
        onClosed: () => lock?.release(),
        onFault: (error) => report(error, 'storage degraded'),
      });
      return { storage };
    },

    storage: () => storage,

    start(hooks, outbox) {
      if (!storage) return { detach: () => {}, steps: {} };
      byOutbox.set(outbox, storage);
      // With a relay, recovered records are first checked against its receipts (platform/acked.ts).
      return startRecovery(storage, tab, owner, hooks, report, graceMs, options && receiptsOf(options));
    },
  };
}

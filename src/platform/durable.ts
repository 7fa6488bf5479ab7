import type { Platform, RecoveryHooks } from '../core/client';
import type { ResolvedOptions } from '../core/options';
import type { Outbox } from '../core/types';
import { PARK_MS, RELAY_SENT_GRACE_MS, SENT_GRACE_MS, createIndexedDbStorage, type IndexedDbStorage } from '../storage/indexeddb';
import { relayOf } from '../transport/unload';
import { DRAIN_LOCK, createTabLock, newTabId, type TabLock } from './tabs';
import { dropSpill, findSpills, writeSpill } from './spill';
import { withoutAcked } from './acked';

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
  /**
   * Starts recovery for the client built with `platform()`; a no-op when memory only. Never throws. Returns
   * `detach()`: removes the listeners and timers it added (the client calls it at shutdown, before storage closes).
   */
  start(hooks: RecoveryHooks, outbox: Outbox): () => void;
}

/** Where the browser entry's events live: database `outbox`, object store `segments`. */
export const DURABLE_DB_NAME = 'outbox';

const byOutbox = new WeakMap<Outbox, IndexedDbStorage>();

/**
 * The IndexedDB storage behind a client (for the benchmark and tests: `transactions`, `size()`), or undefined
 * when it runs memory-only.
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
      storage = createIndexedDbStorage({
        owner,
        dbName: setup.dbName ?? DURABLE_DB_NAME,
        // A relay deduplicates by id: a record whose unload answer was never seen may be resent sooner there.
        graceMs: resolved.timing.sentGraceMs ?? (relayOf(resolved) ? RELAY_SENT_GRACE_MS : SENT_GRACE_MS),
        liveOwners: lock ? () => lock.liveOwners() : undefined,
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

    start(hooks, outbox) {
      if (!storage) return () => {};
      const store: IndexedDbStorage = storage;
      byOutbox.set(outbox, store);
      let draining = false;
      let again = false;
      let kickAfter = false;
      let stopped = false;
      const watching = new Set<string>();
      let graceTimer: ReturnType<typeof setTimeout> | null = null;

      async function drain(online = false): Promise<void> {
        if (stopped) return;
        kickAfter ||= online;
        if (draining) {
          again = true;
          return;
        }
        draining = true;
        try {
          const adopt = async () => {
            // Bursts a gone client could only spill to localStorage at pagehide (see spill.ts): into IndexedDB
            // first, then out of localStorage. Without Web Locks, only spills of discarded pages (not bfcache).
            // A spill written for the back/forward cache waits while its page may still come back (it holds no
            // lock while cached: see tabs.ts).
            const live = tab ? await tab.liveOwners() : null;
            const parked = (persisted: boolean, at: number) => persisted && Date.now() - at < PARK_MS;
            for (const spill of findSpills((o, persisted, at) => o !== owner && (live ? !live.has(o) && !parked(persisted, at) : !persisted))) {
              const saved = store.append(spill.events);
              hooks.enqueueRecovered(spill.events);
              // Released either way: if IndexedDB failed, this page spills them again at its own pagehide.
              await saved.catch((error) => report(error, 'storing spilled events in IndexedDB failed'));
              spill.release();
            }
            const room = hooks.room();
            if (room <= 0) return;
            hooks.enqueueRecovered(await withoutAcked(store, await store.recover(room)));
          };
          if (tab) await tab.exclusive(DRAIN_LOCK, adopt);
          else await adopt();
          if (kickAfter) hooks.kick('recovery'); // the network is back: do not sit out a network backoff
          kickAfter = false;
          // Live owners with stored events (e.g. the page this one replaced, whose lock the browser releases
          // 30–130 ms after it went): recover again the moment each one goes.
          for (const other of tab ? store.liveOwnersSeen() : []) {
            if (watching.has(other)) continue;
            watching.add(other);
            const done = () => void watching.delete(other);
            tab!.whenGone(other).then(() => {
              done();
              void drain();
            }, done);
          }
          const next = store.nextRecoveryAt();
          if (next !== undefined && !stopped && graceTimer === null) {
            // Beaconed events whose fate is unknown: send them again once their grace period is over.
            graceTimer = setTimeout(() => {
              graceTimer = null;
              void drain();
            }, Math.max(0, next - Date.now()) + 100);
          }
        } catch (error) {
          report(error, 'storage recovery failed; stored events stay for a later start');
        } finally {
          draining = false;
          if (again) {
            again = false;
            void drain();
          }
        }
      }

      const onOnline = () => void drain(true);
      // Acknowledgements are written lazily (a crash then costs duplicates, not losses); write them on the way out.
      // (In pagehide the document is still 'visible'; it turns 'hidden' only in the visibilitychange after it.)
      const onHide = (event: Event) => {
        const persisted = event.type === 'pagehide' && (event as PageTransitionEvent).persisted === true;
        if (event.type === 'pagehide') spillUncommitted(persisted);
        if (event.type === 'pagehide' || document.visibilityState === 'hidden') store.flushWrites().catch(() => undefined);
        if (persisted && tab) {
          // Into the back/forward cache: mark this owner parked (so no tab adopts its records while it may come
          // back), then let the lock go in this task; a cached page holding it is evicted as soon as another
          // tab asks (WebLocksContention, platform-facts §5).
          store.park();
          tab.suspend();
          cachedNow = true;
        }
      };
      // The unload path (capture phase, before this) sent what fit; what is left and not yet committed to
      // IndexedDB would be lost with the document: write it synchronously to localStorage.
      const spillUncommitted = (persisted: boolean) => {
        try {
          writeSpill(owner, hooks.held().filter((e) => !store.isCommitted(e.id)), persisted);
        } catch (error) {
          report(error, 'spilling uncommitted events to localStorage at pagehide failed');
        }
      };
      // Back from the back/forward cache: this page takes its lock again and sends its events itself.
      let cachedNow = false;
      const onShow = (event: Event) => {
        if (!(event as PageTransitionEvent).persisted) return;
        dropSpill(owner);
        if (cachedNow && tab) {
          cachedNow = false;
          tab.resume();
          store.unpark();
          watching.clear(); // suspend() withdrew the watches; the next pass sets them again
          void drain();
        }
      };
      const target = typeof window !== 'undefined' ? window : undefined;
      target?.addEventListener('online', onOnline);
      target?.addEventListener('pagehide', onHide);
      target?.addEventListener('pageshow', onShow);
      if (typeof document !== 'undefined') document.addEventListener('visibilitychange', onHide);

      void drain();
      return () => {
        stopped = true;
        if (graceTimer !== null) clearTimeout(graceTimer);
        target?.removeEventListener('online', onOnline);
        target?.removeEventListener('pagehide', onHide);
        target?.removeEventListener('pageshow', onShow);
        if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', onHide);
      };
    },
  };
}

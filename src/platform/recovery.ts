import type { RecoveryHooks } from '../core/client';
import { PARK_MS, type IndexedDbStorage } from '../storage/indexeddb';
import { DRAIN_LOCK, type TabLock } from './tabs';
import { dropSpill, findSpills, writeSpill } from './spill';
import { withoutAcked } from './acked';

/** How recovery reports an error it survives: to the host's `onError` (see durable.ts). */
type Report = (error: unknown, what: string) => void;

/**
 * Starts the recovery passes of one client (see durable.ts): one at start, one on `online`, one when a live owner
 * seen with stored events goes, one when beaconed events' grace period ends. Passes never overlap: one asked for
 * while another runs runs after it. Returns `detach()`.
 *
 * The functions here take this client's storage, tab lock (null without Web Locks), id, hooks and error report
 * as plain arguments rather than one context object: the global bundle is 34 B (min+gzip) smaller that way.
 */
export function startRecovery(store: IndexedDbStorage, tab: TabLock | null, owner: string, hooks: RecoveryHooks, report: Report): () => void {
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
      const adopt = () => adoptGone(store, tab, owner, hooks, report);
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

  const detachPage = listenToPage(store, tab, owner, hooks, report, watching, drain);
  void drain();
  return () => {
    stopped = true;
    if (graceTimer !== null) clearTimeout(graceTimer);
    detachPage();
  };
}

/** One pass's adoption (under the drain lock when there are Web Locks): gone clients' spills, then their segments. */
async function adoptGone(store: IndexedDbStorage, tab: TabLock | null, owner: string, hooks: RecoveryHooks, report: Report): Promise<void> {
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
}

/**
 * The page's events recovery answers: `online` (a pass that kicks the client), pagehide and hiding (write what is
 * pending; spill what is not committed; into the back/forward cache: park), pageshow from the cache (take the
 * lock back, watch again, a pass). Returns what removes the listeners.
 */
function listenToPage(
  store: IndexedDbStorage,
  tab: TabLock | null,
  owner: string,
  hooks: RecoveryHooks,
  report: Report,
  watching: Set<string>,
  drain: (online?: boolean) => Promise<void>,
): () => void {
  const onOnline = () => void drain(true);
  // Acknowledgements are written lazily (a crash then costs duplicates, not losses); write them on the way out.
  // (In pagehide the document is still 'visible'; it turns 'hidden' only in the visibilitychange after it.)
  const onHide = (event: Event) => {
    const persisted = event.type === 'pagehide' && (event as PageTransitionEvent).persisted === true;
    const noted = event.type === 'pagehide' && spillUncommitted(persisted);
    if (event.type === 'pagehide' || document.visibilityState === 'hidden') store.flushWrites().catch(() => undefined);
    if (persisted && tab) {
      // Into the back/forward cache: mark this owner parked (so no tab adopts its records while it may come
      // back), then let the lock go in this task; a cached page holding it is evicted as soon as another
      // tab asks (WebLocksContention, platform-facts §5). The mark is the spill's park note in localStorage,
      // written just now; only without it one in IndexedDB (WebKit would commit that one only on a restore,
      // and report it failed then: platform-facts §11).
      if (!noted) store.park();
      tab.suspend();
      cachedNow = true;
    }
  };
  // The unload path (capture phase, before this) sent what fit; what is left and not yet committed to
  // IndexedDB would be lost with the document: write it synchronously to localStorage.
  const spillUncommitted = (persisted: boolean): boolean => {
    try {
      return writeSpill(owner, hooks.held().filter((e) => !store.isCommitted(e.id)), persisted);
    } catch (error) {
      report(error, 'spilling uncommitted events to localStorage at pagehide failed');
      return false;
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
  return () => {
    target?.removeEventListener('online', onOnline);
    target?.removeEventListener('pagehide', onHide);
    target?.removeEventListener('pageshow', onShow);
    if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', onHide);
  };
}

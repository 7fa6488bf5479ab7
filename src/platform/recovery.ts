import type { RecoveryHooks } from '../core/client';
import { PARK_MS, type IndexedDbStorage } from '../storage/indexeddb';
import { DRAIN_LOCK, type TabLock } from './tabs';
import { dropSpill, findSpills, writeSpill } from './spill';
import { withoutAcked } from './acked';
import type { AskRelay } from './receipts';
import type { PageSteps } from './lifecycle';

/** How recovery reports an error it survives: to the host's `onError` (see durable.ts). */
type Report = (error: unknown, what: string) => void;

/**
 * Starts the recovery passes of one client (see durable.ts): one at start, one on `online`, one when a live owner
 * seen with stored events goes, one when beaconed events' grace period ends. Passes never overlap: one asked for
 * while another runs runs after it. Returns `detach()` and its steps in the page's lifecycle (see lifecycle.ts).
 *
 * The functions here take this client's storage, tab lock (null without Web Locks), id, hooks and error report
 * as plain arguments rather than one context object: the global bundle is 34 B (min+gzip) smaller that way.
 */
export function startRecovery(
  store: IndexedDbStorage,
  tab: TabLock | null,
  owner: string,
  hooks: RecoveryHooks,
  report: Report,
  graceMs: number,
  relay?: AskRelay,
): { detach: () => void; steps: Pick<PageSteps, 'spill' | 'flushWrites' | 'park' | 'unpark'> } {
  let draining = false;
  let again = false;
  let kickAfter = false;
  let stopped = false;
  const watching = new Set<string>();
  let graceTimer: ReturnType<typeof setTimeout> | null = null;
  /** When the armed grace timer fires (epoch ms); an earlier due time re-arms it. */
  let graceAt = Infinity;

  async function drain(online = false): Promise<void> {
    if (stopped) return;
    kickAfter ||= online;
    if (draining) {
      again = true;
      return;
    }
    draining = true;
    try {
      const adopt = () => adoptGone(store, tab, owner, hooks, report, graceMs, relay);
      const spillsAt = tab ? await tab.exclusive(DRAIN_LOCK, adopt) : await adopt();
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
      const next = Math.min(store.nextRecoveryAt() ?? Infinity, spillsAt ?? Infinity);
      if (next < graceAt && !stopped) {
        // Records sent with an answer never seen (stored or spilled): send them again once their grace is over.
        // A timer armed for a later time (another owner's records) must not hold back these.
        if (graceTimer !== null) clearTimeout(graceTimer);
        graceAt = next;
        graceTimer = setTimeout(() => {
          graceTimer = null;
          graceAt = Infinity;
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

  const page = pageSteps(store, tab, owner, hooks, report, watching, drain);
  void drain();
  return {
    detach() {
      stopped = true;
      if (graceTimer !== null) clearTimeout(graceTimer);
      page.detach();
    },
    steps: page.steps,
  };
}

/**
 * One pass's adoption (under the drain lock when there are Web Locks): gone clients' spills, then their segments.
 * Returns when spilled records withheld for their sent-grace may be sent (epoch ms; Infinity: none are).
 */
async function adoptGone(store: IndexedDbStorage, tab: TabLock | null, owner: string, hooks: RecoveryHooks, report: Report, graceMs: number, relay?: AskRelay): Promise<number> {
  // Bursts a gone client could only spill to localStorage at pagehide (see spill.ts): into IndexedDB
  // first, then out of localStorage. Without Web Locks, only spills of discarded pages (not bfcache).
  // A spill written for the back/forward cache waits while its page may still come back (it holds no
  // lock while cached: see tabs.ts).
  const live = tab ? await tab.liveOwners() : null;
  const parked = (persisted: boolean, at: number) => persisted && Date.now() - at < PARK_MS;
  /** Ids this pass found spilled: a late commit of the same records in IndexedDB is not sent a second time. */
  const spilled = new Set<string>();
  let until = Infinity;
  for (const spill of findSpills((o, persisted, at) => o !== owner && (live ? !live.has(o) && !parked(persisted, at) : !persisted), graceMs)) {
    // Records an unload keepalive carried wait out the sent-grace in the spill, as marked ones do in IndexedDB.
    for (const e of spill.withheld) spilled.add(e.id), (until = Math.min(until, e.sentAt! + graceMs));
    for (const e of spill.events) spilled.add(e.id);
    // What the worker or the relay already settled (a keepalive's records, answered after their page was gone) is
    // not stored or sent again; it is not in IndexedDB yet, so there is nothing to remove.
    const events = await withoutAcked({ remove: () => Promise.resolve() }, spill.events, relay);
    const saved = store.append(events);
    hooks.enqueueRecovered(events);
    // Released either way: if IndexedDB failed, this page spills them again at its own pagehide.
    await saved.catch((error) => report(error, 'storing spilled events in IndexedDB failed'));
    spill.release();
  }
  const room = hooks.room();
  if (room > 0) hooks.enqueueRecovered((await withoutAcked(store, await store.recover(room), relay)).filter((e) => !spilled.has(e.id)));
  return until;
}

/**
 * What recovery does as the page goes and comes back (steps of the page's lifecycle sequence, lifecycle.ts): at
 * pagehide, spill what is not committed; at hide, write what is pending; into the back/forward cache, park; back
 * from it, take the lock back, watch again, a pass. And `online`: a pass that kicks the client. `detach()` removes
 * the `online` listener.
 */
function pageSteps(
  store: IndexedDbStorage,
  tab: TabLock | null,
  owner: string,
  hooks: RecoveryHooks,
  report: Report,
  watching: Set<string>,
  drain: (online?: boolean) => Promise<void>,
): { detach: () => void; steps: Pick<PageSteps, 'spill' | 'flushWrites' | 'park' | 'unpark'> } {
  const onOnline = () => void drain(true);
  let cachedNow = false;
  /** This pagehide's spill was written, and with it the park note (spill.ts): no IndexedDB park mark needed. */
  let noted = false;
  const target = typeof window !== 'undefined' ? window : undefined;
  target?.addEventListener('online', onOnline);
  return {
    detach: () => target?.removeEventListener('online', onOnline),
    steps: {
      // What is held and not yet committed to IndexedDB would be lost with the document: write it synchronously to
      // localStorage (before the unload path, the next step, takes what fits its budgets).
      spill(persisted) {
        noted = false;
        try {
          noted = writeSpill(owner, hooks.held().filter((e) => !store.isCommitted(e.id)), persisted);
        } catch (error) {
          report(error, 'spilling uncommitted events to localStorage at pagehide failed');
        }
      },
      // Acknowledgements are written lazily (a crash then costs duplicates, not losses); write them on the way out.
      flushWrites() {
        store.flushWrites().catch(() => undefined);
      },
      park() {
        if (!tab) return;
        // Into the back/forward cache: mark this owner parked (so no tab adopts its records while it may come
        // back), then let the lock go in this task; a cached page holding it is evicted as soon as another tab
        // asks (WebLocksContention, platform-facts §5). The mark is the park note the spill step just wrote to
        // localStorage; one in IndexedDB only without it (WebKit commits that one only on a restore, and reports
        // it failed then: platform-facts §11).
        if (!noted) store.park();
        tab.suspend();
        cachedNow = true;
      },
      // Back from the back/forward cache: this page takes its lock again and sends its events itself.
      unpark() {
        dropSpill(owner);
        if (cachedNow && tab) {
          cachedNow = false;
          tab.resume();
          store.unpark();
          watching.clear(); // suspend() withdrew the watches; the next pass sets them again
          void drain();
        }
      },
    },
  };
}

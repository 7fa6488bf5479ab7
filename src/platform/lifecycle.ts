/**
 * Page lifecycle for the unload path: tells when the page is leaving (the last reliable moment to send) and when
 * it comes back from the back/forward cache.
 */

/** What `watchLifecycle` reports. */
export interface LifecycleHandlers {
  /**
   * The page is being hidden or left: `visibilitychange` → `hidden`, or `pagehide`. On a navigation or a close
   * both fire, `pagehide` first (platform-facts §1); `persisted` is true when the page may enter the bfcache.
   */
  onHide(event: { via: 'visibilitychange' | 'pagehide'; persisted: boolean }): void;
  /** The page is visible again, or restored from the back/forward cache (`restored` true). */
  onShow(event: { restored: boolean }): void;
}

/** The globals this module listens on; injectable for tests. @default the page's `window` and `document` */
export interface LifecycleTargets {
  window: Pick<Window, 'addEventListener' | 'removeEventListener'>;
  document: Pick<Document, 'addEventListener' | 'removeEventListener' | 'visibilityState'>;
}

/**
 * Listens for the page leaving and coming back; returns one `detach()` that removes every listener. A no-op (and
 * a no-op detach) where there is no `window`/`document` (Node, workers).
 *
 * Platform reasons: `pagehide` goes on `window` — it is never dispatched to `document` (OpenTelemetry listens on
 * document and misses it). `unload` is never used: an `unload` listener alone makes the page ineligible for the
 * back/forward cache (Chromium reports `UnloadHandlerExistsInMainFrame`, platform-facts §5), and it does not fire
 * reliably on mobile; `beforeunload` only through `beforeUnloadGuard`, while something is queued.
 */
export function watchLifecycle(handlers: LifecycleHandlers, targets?: LifecycleTargets): () => void {
  const win = targets?.window ?? (typeof window !== 'undefined' ? window : undefined);
  const doc = targets?.document ?? (typeof document !== 'undefined' ? document : undefined);
  if (!win || !doc) return () => {};

  const onVisibility = () => {
    if (doc.visibilityState === 'hidden') handlers.onHide({ via: 'visibilitychange', persisted: false });
    else handlers.onShow({ restored: false });
  };
  const onPageHide = (event: Event) => {
    handlers.onHide({ via: 'pagehide', persisted: (event as PageTransitionEvent).persisted === true });
  };
  const onPageShow = (event: Event) => {
    // A first load fires pageshow too (persisted false): only a restore from the bfcache matters here.
    if ((event as PageTransitionEvent).persisted === true) handlers.onShow({ restored: true });
  };

  // Capture listeners (at the event's own target, window or document, Chromium runs listeners in registration order
  // whatever their phase; on the way down from an ancestor, capture ones first).
  const capture = { capture: true };
  doc.addEventListener('visibilitychange', onVisibility, capture);
  win.addEventListener('pagehide', onPageHide, capture);
  win.addEventListener('pageshow', onPageShow, capture);
  let attached = true;
  return () => {
    if (!attached) return;
    attached = false;
    doc.removeEventListener('visibilitychange', onVisibility, capture);
    win.removeEventListener('pagehide', onPageHide, capture);
    win.removeEventListener('pageshow', onPageShow, capture);
  };
}

/**
 * The steps a browser client takes as the page leaves and comes back, each optional. `pageSequence` runs them in
 * this order at hide (`visibilitychange` → hidden, or `pagehide`) and the show steps in reverse at show: one
 * sequence in code order, not listeners whose order rests on registration (at an event's own target, window or
 * document, Chromium runs listeners in registration order whatever their phase). The spill comes before the unload
 * send, as it always did (it must see what is held and not committed); the unload send comes before the write of
 * what is pending and the park, so its marks of records whose answer may never be seen go first (the 60 s soak
 * measured 169 duplicates with them last, 33 this way).
 */
export interface PageSteps {
  /** 1. `pagehide` for good (not into the back/forward cache): end open observations, so the steps below carry them. */
  endOpen?(): void;
  /**
   * 2. `pagehide`: pick what is held and not committed to IndexedDB (cheap), and return the writer that spills it
   * to localStorage (synchronous, the costly part), which runs after step 3's send.
   */
  spill?(persisted: boolean): (() => void) | void;
  /** 3. Send what is queued over the unload transports (keepalive, fetchLater, beacon) and mark what went. */
  unload?(via: LeaveVia): void;
  /** 4. Write what is pending in IndexedDB now (acknowledgements are otherwise written lazily). */
  flushWrites?(): void;
  /** 5. `pagehide` into the back/forward cache: mark this client parked and let its tab lock go. */
  park?(): void;
  /** Show, undoing 5, 4 and 2: back from the back/forward cache (`restored` only): take the lock again, unpark, recover. */
  unpark?(): void;
  /** Show, undoing 3: the unload transports may be tried again; after a restore, sending restarts. */
  resume?(restored: boolean): void;
}

/** What made the unload path send: the page hid or went (`watchLifecycle`), or a navigation was asked for (`beforeUnloadGuard`). */
export type LeaveVia = 'visibilitychange' | 'pagehide' | 'beforeunload';

/**
 * The one hide/show sequence of a client's page steps, for `watchLifecycle`. A step that throws stops no other.
 * The unload send is the first costly work of a `pagehide`: Firefox ESR cuts a `pagehide` listener short a few
 * milliseconds in on a cross-site navigation or a close (docs/platform-facts.md §12), so the spill's serialization
 * and its localStorage write come after the send (the spill still holds what the send took: picked before it).
 */
export function pageSequence(steps: PageSteps, onError: (error: unknown) => void = () => {}): LifecycleHandlers {
  const step = <A extends unknown[], R>(fn: ((...args: A) => R) | undefined, ...args: A): R | undefined => {
    try {
      return fn?.(...args);
    } catch (error) {
      onError(error); // never into the page
      return undefined;
    }
  };
  return {
    onHide({ via, persisted }) {
      const pagehide = via === 'pagehide';
      if (pagehide && !persisted) step(steps.endOpen);
      const writeSpill = pagehide ? step(steps.spill, persisted) : undefined;
      step(steps.unload, via);
      if (writeSpill) step(writeSpill);
      step(steps.flushWrites);
      if (pagehide && persisted) step(steps.park);
    },
    onShow({ restored }) {
      if (restored) step(steps.unpark);
      step(steps.resume, restored);
    },
  };
}

/**
 * A `beforeunload` listener that exists only while armed: the client arms it when a record is queued and disarms
 * it once a send leaves nothing queued. `beforeunload` comes before `pagehide` on a navigation and on a close with
 * `runBeforeUnload`, while the document is still whole, so the unload send made there is not cut short as a late
 * `pagehide` listener can be (Firefox ESR, docs/platform-facts.md §12). Only while armed: a `beforeunload` listener
 * keeps a page out of Firefox's back/forward cache. It never asks the user to stay (no `preventDefault`).
 */
export function beforeUnloadGuard(
  onLeave: () => void,
  target: Pick<Window, 'addEventListener' | 'removeEventListener'> | undefined = typeof window !== 'undefined' ? window : undefined,
): { arm(): void; disarm(): void } {
  let armed = false;
  const set = (on: boolean) => {
    if (armed === on || !target) return;
    armed = on;
    if (on) target.addEventListener('beforeunload', onLeave, true);
    else target.removeEventListener('beforeunload', onLeave, true);
  };
  return { arm: () => set(true), disarm: () => set(false) };
}

/** How the page went, if it did, within the time asked (see `nextHide`). */
export type HideOutcome = 'gone' | 'cached' | 'stays';

/**
 * Resolves 'gone' when a `pagehide` (not persisted) comes within `ms`, 'cached' for a persisted one, else 'stays'.
 * Attaches one listener for that time only; resolves 'stays' at once where there is no `window`.
 */
export function nextHide(ms: number): Promise<HideOutcome> {
  const win = typeof window !== 'undefined' ? window : undefined;
  if (!win) return Promise.resolve('stays');
  return new Promise((resolve) => {
    const onHide = (event: Event) => finish((event as PageTransitionEvent).persisted === true ? 'cached' : 'gone');
    const timer = setTimeout(() => finish('stays'), ms);
    function finish(outcome: HideOutcome): void {
      clearTimeout(timer);
      win!.removeEventListener('pagehide', onHide, true);
      resolve(outcome);
    }
    win.addEventListener('pagehide', onHide, true);
  });
}

/** Resolves at the next restore from the back/forward cache (`pageshow` with `persisted`). */
export function nextRestore(): Promise<void> {
  const win = typeof window !== 'undefined' ? window : undefined;
  if (!win) return Promise.resolve();
  return new Promise((resolve) => {
    const onShow = (event: Event) => {
      if ((event as PageTransitionEvent).persisted !== true) return;
      win.removeEventListener('pageshow', onShow, true);
      resolve();
    };
    win.addEventListener('pageshow', onShow, true);
  });
}

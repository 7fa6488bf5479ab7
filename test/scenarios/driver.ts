/**
 * The small browser interface the shared delivery scenarios (./scenarios.ts) are written against, so that one
 * scenario runs in Playwright's browsers (./playwright-driver.ts) and in WebKit over classic WebDriver
 * (./webdriver-driver.ts) with the same steps and assertions. Only what both can do, plus optional capabilities a
 * scenario asks for by name.
 */

/** A function run in the page: serialized with its source, so it must not close over Node-side values. */
export type PageFunction<A, R> = (arg: A) => R | Promise<R>;

export interface Tab {
  /** Runs `fn(arg)` in the page and resolves with its (JSON-serializable) result; a rejection rejects. */
  evaluate<R, A = undefined>(fn: PageFunction<A, R>, arg?: A): Promise<R>;
  /** Navigates and waits for the load. */
  goto(url: string): Promise<void>;
  /** Goes back in history (a restore from the back/forward cache fires no load event: does not wait for one). */
  back(): Promise<void>;
  /** Reloads and waits for the load. */
  reload(): Promise<void>;
  /** Closes the window as a user does (pagehide/unload run); the tab is unusable afterwards. */
  close(): Promise<void>;
  /** Hides the page while it lives on (minimized window: visibilitychange → hidden); absent where the driver cannot. */
  hide?(): Promise<void>;
  /**
   * Ends the service workers of the profile, as the browser does to an idle one; the tab may be left elsewhere
   * (about:blank). Chromium: CDP ServiceWorker.stopAllWorkers. WebKit: no command for it, so the tab leaves the
   * origin and waits out WebKit's termination delay for a worker without clients (platform-facts §11).
   */
  endServiceWorkers?(): Promise<void>;
}

export interface BrowserDriver {
  /** 'chromium', 'firefox' or 'webkit'. */
  readonly name: string;
  /** A new window (tab) in the same browsing profile as the others: same origins, same storage. */
  newTab(): Promise<Tab>;
}

/**
 * BrowserDriver over classic W3C WebDriver (selenium-webdriver), as WebKitGTK's WebKitWebDriver speaks it: every tab
 * is a window of the one session. A session has one current window, so every command switches to its tab first,
 * and commands are queued one at a time. The session's first window is never closed (closing the last window would
 * end the session): it is the base the other tabs are opened from.
 */
import type { WebDriver } from 'selenium-webdriver';
import type { BrowserDriver, PageFunction, Tab } from './driver';

/** Runs `fn(arg)` as an async script and hands back `{ value }` or `{ error }` (a rejection in the page). */
const ASYNC_WRAPPER = (source: string) => `
const done = arguments[arguments.length - 1];
const arg = arguments[0];
Promise.resolve()
  .then(() => (${source})(arg))
  .then((value) => done({ value: value === undefined ? null : value }), (e) => done({ error: e instanceof Error ? e.name + ': ' + e.message + ' | ' + e.stack : String(e) }));`;

/**
 * WebKit ends a service worker left without clients after a delay: measured here (platform-facts §11) as the same
 * instance after 9.5 s away, a new one after 10 s. 2 s of margin; the scenario checks that it met a new instance.
 */
export const WEBKIT_SW_TERMINATION_WAIT_MS = 12_000;

export class WebDriverBrowser implements BrowserDriver {
  readonly name = 'webkit';
  private queue: Promise<unknown> = Promise.resolve();
  private readonly opened = new Set<string>();
  private base = '';

  constructor(readonly driver: WebDriver) {}

  /** One command at a time, on the window it names. */
  private run<T>(handle: string | null, action: () => Promise<T>): Promise<T> {
    const next = this.queue.then(async () => {
      if (handle !== null) await this.driver.switchTo().window(handle);
      return action();
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  async newTab(): Promise<Tab> {
    const handle = await this.run(null, async () => {
      if (!this.base) this.base = await this.driver.getWindowHandle();
      await this.driver.switchTo().window(this.base);
      await this.driver.switchTo().newWindow('window');
      return this.driver.getWindowHandle();
    });
    this.opened.add(handle);
    const tab: Tab = {
      evaluate: async <R, A>(fn: PageFunction<A, R>, arg?: A) => {
        const r = (await this.run(handle, () => this.driver.executeAsyncScript(ASYNC_WRAPPER(fn.toString()), arg ?? null))) as {
          value?: R;
          error?: string;
        };
        if (r.error !== undefined) throw new Error(`in the page: ${r.error}`);
        return r.value as R;
      },
      goto: (url) => this.run(handle, () => this.driver.get(url)),
      back: () => this.run(handle, () => this.driver.navigate().back()),
      reload: () => this.run(handle, () => this.driver.navigate().refresh()),
      close: () =>
        this.run(handle, async () => {
          this.opened.delete(handle);
          await this.driver.close();
          await this.driver.switchTo().window(this.base);
        }),
      hide: () => this.run(handle, () => this.driver.manage().window().minimize()),
      endServiceWorkers: async () => {
        await this.run(handle, () => this.driver.get('about:blank'));
        await new Promise((r) => setTimeout(r, WEBKIT_SW_TERMINATION_WAIT_MS));
      },
    };
    return tab;
  }

  /** Closes every tab still open (the base window stays): the end of a scenario. */
  async closeAll(): Promise<void> {
    for (const handle of [...this.opened]) {
      await this.run(handle, async () => {
        this.opened.delete(handle);
        await this.driver.close();
      }).catch(() => undefined);
    }
    if (this.base) await this.run(this.base, async () => undefined);
  }
}

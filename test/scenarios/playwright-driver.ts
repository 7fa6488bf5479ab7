/** BrowserDriver over a Playwright browser context: every tab is a page of the one context. */
import type { BrowserContext, Page } from '@playwright/test';
import type { BrowserDriver, PageFunction, Tab } from './driver';

export class PlaywrightBrowser implements BrowserDriver {
  constructor(
    readonly name: string,
    private readonly context: BrowserContext,
  ) {}

  async newTab(): Promise<Tab> {
    const page: Page = await this.context.newPage();
    return {
      evaluate: <R, A>(fn: PageFunction<A, R>, arg?: A) => page.evaluate(fn as (a: unknown) => R | Promise<R>, arg as unknown),
      goto: async (url) => void (await page.goto(url)),
      back: async () => void (await page.goBack({ waitUntil: 'commit' })),
      reload: async () => void (await page.reload()),
      // runBeforeUnload: the page's unload handlers run, as when a user closes the tab.
      close: () => page.close({ runBeforeUnload: true }),
      ...(this.name === 'chromium' && {
        endServiceWorkers: async () => {
          const cdp = await this.context.newCDPSession(page);
          await cdp.send('ServiceWorker.enable');
          await cdp.send('ServiceWorker.stopAllWorkers');
          await cdp.detach();
        },
      }),
      // No hide: Playwright's contexts never hide a page (focus emulation); unload-tabswitch.spec.ts hides one over CDP.
    };
  }
}

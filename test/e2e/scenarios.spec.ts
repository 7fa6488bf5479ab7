// The shared delivery scenarios (test/scenarios/scenarios.ts) in Playwright's Chromium: the same steps and
// assertions WebKit runs over WebDriver (test/webkit/webkit.test.ts), through the same small driver interface.
// A scenario needing a capability Playwright's contexts lack (hiding a page) is skipped here with where it is
// covered instead.
import { test } from '@playwright/test';
import { PlaywrightBrowser } from '../scenarios/playwright-driver';
import { scenarios } from '../scenarios/scenarios';

for (const s of scenarios) {
  test(s.name, async ({ context, browserName }) => {
    const browser = new PlaywrightBrowser(browserName, context);
    const tab = await browser.newTab();
    const lacking = (s.needs ?? []).filter((n) => !(n in tab));
    await tab.close();
    test.skip(lacking.length > 0, `needs ${lacking.join(', ')}: Playwright's contexts never hide a page (unload-tabswitch.spec.ts hides one over CDP)`);
    const outcome = await s.run(browser);
    test.info().annotations.push({ type: 'measured', description: `${outcome.delivered}/${outcome.expected} delivered, ${outcome.duplicates} duplicate(s)${outcome.note ? `; ${outcome.note}` : ''}` });
  });
}

import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS } from './scripts/chromium.mjs';

/** Debian's Chromium (or CHROMIUM_PATH); Playwright cannot download browsers on these machines. */
export const chromiumLaunch = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: CHROMIUM_ARGS,
};

/**
 * Debian's Firefox ESR (or FIREFOX_PATH), driven over WebDriver BiDi through Playwright's `moz-firefox` channel.
 * That channel works with this Firefox only at @playwright/test 1.64.1 (1.65 sends a BiDi command ESR lacks).
 */
export const firefoxLaunch = {
  channel: 'moz-firefox',
  executablePath: process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr',
};

/** How long Firefox lets an idle service worker live (its default is 30 s): the no-SyncManager spec waits it out. */
export const FIREFOX_SW_IDLE_MS = 1000;

/**
 * The specs Firefox runs. Firefox has no SyncManager, no fetchLater and no CDP: there they test the fallbacks, and
 * their Chromium-only tests skip themselves with the reason.
 */
const FIREFOX_SPECS = [
  'durable-queue.spec.ts',
  'durable-restart.spec.ts',
  'durable-marks.spec.ts',
  'unload-leave.spec.ts',
  'unload-tabswitch.spec.ts',
  'unload-crosssite.spec.ts',
  'script-tag.spec.ts',
  'sw-sync.spec.ts',
  'tracing-context.spec.ts',
  'receipts.spec.ts',
];

export default defineConfig({
  testDir: './test/e2e',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  // A stray `.only` fails the run in CI instead of silently running one test.
  forbidOnly: !!process.env.CI,
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: { headless: true },
  projects: [
    { name: 'chromium', use: { browserName: 'chromium', launchOptions: chromiumLaunch } },
    {
      name: 'firefox',
      testMatch: FIREFOX_SPECS,
      use: {
        browserName: 'firefox',
        channel: firefoxLaunch.channel,
        launchOptions: {
          executablePath: firefoxLaunch.executablePath,
          firefoxUserPrefs: {
            'dom.serviceWorkers.idle_timeout': FIREFOX_SW_IDLE_MS,
            'dom.serviceWorkers.idle_extended_timeout': FIREFOX_SW_IDLE_MS,
          },
        },
      },
    },
  ],
});

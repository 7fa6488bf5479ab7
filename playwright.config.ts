import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS } from './scripts/chromium.mjs';

/** Debian's Chromium (or CHROMIUM_PATH); Playwright cannot download browsers on these machines. */
export const chromiumLaunch = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: CHROMIUM_ARGS,
};

export default defineConfig({
  testDir: './test/e2e',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: { headless: true, launchOptions: chromiumLaunch },
  projects: [{ name: 'chromium', use: { browserName: 'chromium', launchOptions: chromiumLaunch } }],
});

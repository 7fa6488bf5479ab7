import { defineConfig } from 'vitest/config';

// The WebKit project (test/webkit/): the shared delivery scenarios in WebKitGTK over WebDriver. One file, one
// worker: one Xvfb, one WebKitWebDriver and one browser session for all scenarios (each scenario has its own origin).
export default defineConfig({
  test: {
    include: ['test/webkit/**/*.test.ts'],
    allowOnly: !process.env.CI,
    testTimeout: 90_000,
    hookTimeout: 60_000,
    maxWorkers: 1,
    fileParallelism: false,
  },
});

// WebKit (WebKitGTK's MiniBrowser over WebKitWebDriver, under Xvfb): the shared delivery scenarios
// (test/scenarios/scenarios.ts) against the real collector. One session for all of them: each scenario runs on its
// own collector, so its own origin, with empty storage.
// OUTBOX_WEBKIT_RUNS=N repeats each scenario N times and writes every outcome to OUTBOX_WEBKIT_RUNS_OUT (JSON):
// scripts/webkit-runs.mjs prints the table from it. npm test runs each once.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { scenarios, type Outcome } from '../scenarios/scenarios';
import { WebDriverBrowser } from '../scenarios/webdriver-driver';
import { startWebKit, webkitMissing, type WebKitStack } from './stack';

const missing = webkitMissing();
const runs = Number(process.env.OUTBOX_WEBKIT_RUNS ?? 1);
const results: { scenario: string; run: number; outcome?: Outcome; error?: string; ms: number }[] = [];
let stack: WebKitStack | undefined;
let browser: WebDriverBrowser;

describe.skipIf(missing !== null)(`webkit${missing ? ` (${missing})` : ''}`, () => {
  beforeAll(async () => {
    stack = await startWebKit();
    browser = new WebDriverBrowser(stack.driver);
  });
  afterAll(async () => {
    await stack?.stop();
    if (process.env.OUTBOX_WEBKIT_RUNS_OUT) writeFileSync(process.env.OUTBOX_WEBKIT_RUNS_OUT, JSON.stringify(results, null, 2));
  });

  for (const s of scenarios) {
    test(s.name, { timeout: 90_000 * runs }, async () => {
      const failures: string[] = [];
      for (let run = 1; run <= runs; run++) {
        const t0 = Date.now();
        try {
          const outcome = await s.run(browser);
          results.push({ scenario: s.name, run, outcome, ms: Date.now() - t0 });
          if (outcome.delivered !== outcome.expected) failures.push(`run ${run}: ${outcome.delivered}/${outcome.expected}`);
        } catch (e) {
          results.push({ scenario: s.name, run, error: String((e as Error).message ?? e), ms: Date.now() - t0 });
          failures.push(`run ${run}: ${(e as Error).message ?? e}`);
        } finally {
          await browser.closeAll();
        }
      }
      expect(failures).toEqual([]);
    });
  }
});

import { chromium, expect, firefox, test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { chromiumLaunch, firefoxLaunch } from '../../playwright.config';
import { boot, delivered, expectDelivered, storedCount, staticDirs, track } from './fixtures/durable-helpers';

const collectors: Collector[] = [];
let profile = '';

test.afterEach(async () => {
  await Promise.all(collectors.splice(0).map((c) => c.close()));
  if (profile) rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
});

test('browser restart: events tracked while the collector was down are delivered after the restart', async ({ browserName }) => {
  test.slow(browserName === 'firefox', 'two Firefox launches, 6–30 s each on these machines');
  const launch = () =>
    browserName === 'firefox'
      ? firefox.launchPersistentContext(profile, { ...firefoxLaunch, headless: true })
      : chromium.launchPersistentContext(profile, { ...chromiumLaunch, headless: true });
  profile = mkdtempSync(path.join(os.tmpdir(), 'outbox-durable-'));
  // IndexedDB is keyed by origin, port included: the second run must serve the page from the same port.
  const first = await startCollector({ staticDirs });
  collectors.push(first);
  const port = first.port;

  const run1 = await launch();
  const page1 = run1.pages()[0] ?? (await run1.newPage());
  const errors: string[] = [];
  page1.on('pageerror', (e) => errors.push(e.message));
  await page1.goto(`${first.url}/fixtures/blank.html`);
  await boot(page1);
  first.setFault({ mode: 'down' });
  await track(page1, 'restart', 250);
  await expect.poll(() => storedCount(page1)).toBe(250);
  await run1.close(); // the whole browser goes
  expect(delivered(first, 'restart').unique).toBe(0);
  await first.close();

  const second = await startCollector({ port, staticDirs });
  collectors.push(second);
  const run2 = await launch();
  try {
    const page2 = run2.pages()[0] ?? (await run2.newPage());
    page2.on('pageerror', (e) => errors.push(e.message));
    await page2.goto(`${second.url}/fixtures/blank.html`);
    // Firefox commits the sent-marks of the beacon sent at close (to the dead collector): those events rightly
    // wait out the sent-grace period, injected short here (60 s by default).
    await boot(page2, { timing: { sentGraceMs: 1500 } });
    await expectDelivered(second, 'restart', 250);
    await expect.poll(() => storedCount(page2)).toBe(0);
    expect(second.stats().duplicates).toBe(0);
    expect(errors).toEqual([]);
  } finally {
    await run2.close();
  }
});

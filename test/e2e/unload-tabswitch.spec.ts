import { chromium, expect, test, type Browser } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromiumLaunch } from '../../playwright.config';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { authenticatedRequests, boot, expectDelivered, staticDirs, trackPadded, watchErrors } from './fixtures/unload-helpers';

// A real tab switch hides the page (visibilitychange → hidden) while it lives on: the unload path must send what is
// queued at once, and settle it from the keepalive answers. Playwright's own contexts never hide a page (focus
// emulation), so this spec spawns Chromium itself and drives its default context over CDP (platform-facts §1).
// In Firefox (BiDi) a new Playwright page does not hide the others either, but a tab the page opens itself with
// window.open comes to the front and hides it: that is the tab switch there.

let collector: Collector;
let proc: ChildProcess | undefined;
let browser: Browser | undefined;
let profile = '';

test.beforeAll(async ({ browserName }) => {
  collector = await startCollector({ staticDirs });
  if (browserName === 'firefox') return;
  profile = mkdtempSync(path.join(os.tmpdir(), 'outbox-unload-'));
  const child = spawn(
    chromiumLaunch.executablePath,
    [...chromiumLaunch.args, '--headless', '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank'],
    // Its own process group, so the teardown can end its renderer and utility processes along with it.
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  proc = child;
  const ws = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no DevTools URL from chromium: ${seen.slice(-500)}`)), 30_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`chromium exited with ${code}: ${seen.slice(-500)}`)));
  });
  browser = await chromium.connectOverCDP(ws, { noDefaults: true });
});

test.afterAll(async () => {
  await browser?.close().catch(() => undefined);
  if (proc?.pid !== undefined && proc.exitCode === null) {
    const exited = new Promise((r) => proc!.once('exit', r));
    process.kill(-proc.pid, 'SIGKILL'); // the process group this spec spawned, by its PID
    await exited;
  }
  await collector.close();
  // Chromium's last children may still be closing files in the profile for a moment.
  if (profile) rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
});

test('flushAt 1000, flushInterval 3600: 50 events, then a real tab switch → 50/50 arrive before any navigation', async ({ browserName, context: own }) => {
  const firefox = browserName === 'firefox';
  const context = firefox ? own : browser!.contexts()[0]!; // only Chromium's default context has no focus emulation
  const page = await context.newPage();
  const errors: string[] = [];
  watchErrors(page, errors);
  await page.goto(`${collector.url}/fixtures/blank.html`);
  await page.bringToFront();
  expect(await page.evaluate(() => document.visibilityState)).toBe('visible');
  await boot(page, { flushAt: 1000, flushInterval: 3600 });
  await page.evaluate(() => {
    const w = window as unknown as { hides: string[] };
    w.hides = [];
    document.addEventListener('visibilitychange', () => w.hides.push(document.visibilityState));
  });
  await trackPadded(page, 'tab', 50);
  await page.waitForTimeout(300);
  expect(collector.requests()).toHaveLength(0); // nothing flushes by itself

  // A new tab in front hides the first one.
  const other = firefox
    ? (await Promise.all([context.waitForEvent('page'), page.evaluate(() => void window.open('about:blank', '_blank'))]))[0]
    : await context.newPage();
  await expectDelivered(collector, 'tab', 50, 10_000);
  expect(await page.evaluate(() => (window as unknown as { hides: string[] }).hides)).toEqual(['hidden']);
  expect(authenticatedRequests(collector)).toBeGreaterThan(0); // the unload path, with the client's own headers
  // The page lived to see the keepalive answer: the events are settled (sent), not left queued or in flight.
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { outbox: { stats(): { sent: number; queued: number; inflight: number } } }).outbox.stats()))
    .toMatchObject({ sent: 50, queued: 0, inflight: 0 });
  expect(page.url()).toContain('/fixtures/blank.html'); // no navigation happened
  expect(await page.evaluate(() => (window as unknown as { outboxLog: string[] }).outboxLog)).toEqual([]);

  // Back in front, the client keeps sending the normal way.
  await page.bringToFront();
  await page.evaluate(() => (window as unknown as { outbox: { track(t: string, b: unknown): string; flush(): Promise<void> } }).outbox.track('event-create', { tag: 'tab2', i: 0 }));
  await page.evaluate(() => (window as unknown as { outbox: { flush(): Promise<void> } }).outbox.flush());
  await expectDelivered(collector, 'tab2', 1, 10_000);
  expect(errors).toEqual([]);
  await other.close();
  await page.close();
});

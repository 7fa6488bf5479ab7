// The demo as a user runs it: the real command (node demo/main.mjs, or demo/worker/run.mjs) on a free port with a
// temporary data folder, the printed URL opened in Chromium, the page's own buttons clicked, and the dashboard's
// numbers checked against the collector's control API. The build (dist/) is done before Playwright runs.
import { expect, test, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

/** A port that was free a moment ago (the demo is started with --port N, as a user would). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Running {
  url: string;
  output: () => string;
  child: ChildProcess;
  stop: () => Promise<number | null>;
}

/** Spawns `node <script> --port N --data <tmp> …`, resolves once it prints its one URL. */
async function startDemo(script: string, extraArgs: string[] = [], timeoutMs = 30_000): Promise<Running> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'outbox-demo-'));
  const child = spawn(process.execPath, [path.join(root, script), '--port', String(port), '--data', dataDir, ...extraArgs], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGTERM');
    const code = await exited;
    rmSync(dataDir, { recursive: true, force: true });
    return code;
  };
  try {
    await expect
      .poll(() => {
        if (child.exitCode !== null) throw new Error(`${script} exited early:\n${out}`);
        return /Outbox demo: (\S+)/.exec(out)?.[1] ?? '';
      }, { timeout: timeoutMs, intervals: [100] })
      .not.toBe('');
  } catch (err) {
    await stop();
    throw err;
  }
  const url = /Outbox demo: (\S+)/.exec(out)![1]!;
  return { url, output: () => out, child, stop };
}

/** The number a dashboard cell shows. */
async function shown(page: Page, id: string): Promise<number> {
  const text = (await page.locator(`#${id}`).textContent()) ?? '';
  return Number(text.replace(/\s.*$/, ''));
}

interface CollectorStats {
  requests: number;
  eventsStored: number;
  duplicates: number;
  bytesReceived: number;
  byStatus: Record<string, number>;
}

test('npm run demo: one URL; track 100 through a 500 outage; the dashboard matches the collector', async ({ page }) => {
  test.setTimeout(120_000);
  const demo = await startDemo('demo/main.mjs');
  try {
    // The one line a user sees from the demo itself (the build's size table comes before it, from npm run demo).
    expect(demo.output().trim().split('\n')).toEqual([`Outbox demo: ${demo.url}`]);
    const base = new URL(demo.url);
    const stats = async (): Promise<CollectorStats> => (await fetch(new URL('/control/stats', base))).json() as Promise<CollectorStats>;

    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.setViewportSize({ width: 1280, height: 1000 });
    // ?sw=off: once dist/outbox-sw.js exists, the service worker would take the failed (500) batches into its
    // Background Sync queue ("handed to SW") instead of the client retrying them, which is what this test watches.
    await page.goto(`${demo.url}?sw=off`);
    await expect(page.locator('#stream-state')).toHaveText('● live');
    await expect(page.locator('#chart canvas').first()).toBeVisible();

    await page.getByRole('button', { name: '500' }).click();
    await expect(page.locator('#fault')).toHaveText('500');
    await page.getByRole('button', { name: 'track 100' }).click();

    // While the collector answers 500, the dashboard shows retries and failed answers, and nothing is stored.
    await expect.poll(() => shown(page, 'c-retried'), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect.poll(() => shown(page, 's-status-500'), { timeout: 30_000 }).toBeGreaterThan(0);
    expect((await stats()).eventsStored).toBe(0);

    await page.getByRole('button', { name: 'back to normal' }).click();
    await expect(page.locator('#fault')).toHaveText('none');

    // Recovery: all 100 acknowledged and stored once.
    await expect.poll(() => shown(page, 'c-sent'), { timeout: 60_000 }).toBe(100);
    await expect.poll(() => shown(page, 's-eventsStored'), { timeout: 30_000 }).toBe(100);
    expect(await shown(page, 'c-queued')).toBe(0);
    expect(await shown(page, 'c-inflight')).toBe(0);
    expect(await shown(page, 'c-tracked')).toBe(100);
    expect(await shown(page, 'c-retried')).toBeGreaterThan(0);

    // The collector's own counts, and the dashboard showing the same numbers.
    const events = (await (await fetch(new URL('/control/events', base))).json()) as { events: { id: string; type: string }[] };
    expect(new Set(events.events.map((e) => e.id)).size).toBe(100);
    expect(events.events.every((e) => e.type === 'demo-click')).toBe(true);
    const final = await stats();
    expect(final.eventsStored).toBe(100);
    expect(final.byStatus['500']).toBeGreaterThan(0);
    await expect.poll(async () => ({
      requests: await shown(page, 's-requests'),
      eventsStored: await shown(page, 's-eventsStored'),
      duplicates: await shown(page, 's-duplicates'),
      status500: await shown(page, 's-status-500'),
      status207: await shown(page, 's-status-207'),
      byType: await page.locator('#type-table').innerText(),
    })).toEqual({
      requests: final.requests,
      eventsStored: 100,
      duplicates: final.duplicates,
      status500: final.byStatus['500'],
      status207: final.byStatus['207'],
      byType: 'demo-click\t100',
    });
    await expect(page.locator('#events tbody tr')).toHaveCount(10);
    await expect(page.locator('#log')).toContainText('collector fault: 500');

    // The README's picture: every run saves it under test-results/; UPDATE_SCREENSHOT=1 refreshes docs/dashboard.png.
    const shot = await page.screenshot({ path: path.join(root, 'test-results/dashboard.png'), fullPage: true });
    if (process.env.UPDATE_SCREENSHOT === '1') writeFileSync(path.join(root, 'docs/dashboard.png'), shot);

    // Every value is rendered as text: an event whose type and body are markup stays text.
    const hostile = '<img id="pwned" src="x" onerror="window.__pwned = 1">';
    const res = await fetch(new URL('/api/public/ingestion', base), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer pk-test' },
      body: JSON.stringify({
        batch: [{ id: 'hostile-1', type: hostile, timestamp: new Date().toISOString(), body: { html: hostile } }],
        metadata: { batch_id: 'b-hostile' },
      }),
    });
    expect(res.status).toBeLessThan(300);
    await expect(page.locator('#events tbody tr').first()).toContainText(hostile);
    await expect(page.locator('#type-table')).toContainText(hostile);
    expect(await page.locator('#pwned').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

    expect(errors).toEqual([]);
  } finally {
    expect(await demo.stop()).toBe(0); // SIGTERM stops it cleanly
  }
});

test('with the service worker (the default page): a 500 hands batches to it, and it replays them on recovery', async ({ page }) => {
  test.setTimeout(120_000);
  const demo = await startDemo('demo/main.mjs');
  try {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(demo.url);
    await expect(page.locator('#c-sw')).toHaveText('active, controls this page', { timeout: 30_000 });
    await page.getByRole('button', { name: '500' }).click();
    await expect(page.locator('#fault')).toHaveText('500');
    await page.getByRole('button', { name: 'track 100' }).click();
    // The worker answers the page 202 (queued) for each failed batch: the client counts them handed off.
    await expect.poll(() => shown(page, 'c-handedOff'), { timeout: 30_000 }).toBe(100);
    expect(await shown(page, 's-eventsStored')).toBe(0);
    await page.getByRole('button', { name: 'back to normal' }).click();
    await expect(page.locator('#log')).toContainText('asked the service worker to replay its queue');
    await expect.poll(() => shown(page, 's-eventsStored'), { timeout: 60_000 }).toBe(100);
    await expect.poll(() => shown(page, 'c-swDelivered'), { timeout: 30_000 }).toBe(100);
    const { events } = (await (await fetch(new URL('/control/events', demo.url))).json()) as { events: { id: string }[] };
    expect(new Set(events.map((e) => e.id)).size).toBe(100);
    expect(await shown(page, 'c-sent')).toBe(0);
    expect(errors).toEqual([]);
  } finally {
    expect(await demo.stop()).toBe(0);
  }
});

test('the script-tag page sends through dist/outbox.global.js configured by data-* attributes', async ({ page }) => {
  const demo = await startDemo('demo/main.mjs');
  try {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(new URL('/script.html', demo.url).href);
    await page.getByRole('button', { name: 'track 100' }).click();
    // 100 clicks plus the page view the stub recorded in the head before the library loaded.
    await expect.poll(() => shown(page, 'c-sent'), { timeout: 30_000 }).toBe(101);
    await expect.poll(() => shown(page, 's-eventsStored'), { timeout: 30_000 }).toBe(101);
    const { events } = (await (await fetch(new URL('/control/events', demo.url))).json()) as { events: { type: string }[] };
    expect(events.map((e) => e.type).sort()).toEqual([...Array(100).fill('script-click'), 'script-page-view']);
    await expect(page.locator('#origin')).toHaveText('(window.outbox from the tag)');
    expect(await page.evaluate(() => typeof (window as unknown as { outbox?: { track?: unknown } }).outbox?.track)).toBe('function');
    expect(errors).toEqual([]);
  } finally {
    expect(await demo.stop()).toBe(0);
  }
});

test('npm run demo:worker: a Worker under wrangler dev tracks one event per request into the same collector', async ({ page }) => {
  test.setTimeout(240_000);
  const workerPort = await freePort();
  const demo = await startDemo('demo/worker/run.mjs', ['--worker-port', String(workerPort)], 180_000);
  try {
    expect(demo.output().trim().split('\n')).toEqual([`Outbox demo: ${demo.url}`]);
    expect(new URL(demo.url).searchParams.get('worker')).toBe(`http://127.0.0.1:${workerPort}`);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${demo.url}&sw=off`);
    await page.getByRole('button', { name: 'call the Worker ×5' }).click();
    await expect(page.locator('#worker-status')).toHaveText('answers: 200, 200, 200, 200, 200', { timeout: 30_000 });
    await expect.poll(() => shown(page, 's-eventsStored'), { timeout: 30_000 }).toBe(5);
    await expect.poll(() => page.locator('#type-table').innerText()).toBe('worker-request\t5');
    const { events } = (await (await fetch(new URL('/control/events', demo.url))).json()) as {
      events: { type: string; body: { path: string } }[];
    };
    expect(events.map((e) => e.body.path).sort()).toEqual(['/demo/0', '/demo/1', '/demo/2', '/demo/3', '/demo/4']);
    const { requests } = (await (await fetch(new URL('/control/requests', demo.url))).json()) as { requests: { auth: string }[] };
    expect(requests.every((r) => r.auth === 'basic')).toBe(true); // the Worker sends pk:sk
    expect(errors).toEqual([]);
  } finally {
    expect(await demo.stop()).toBe(0);
  }
});

// dist/outbox.global.js loaded by a plain <script> tag, with the stub snippet queuing calls before it loads:
// in a plain page (async tag, inline stub) and in a page served with a strict CSP (defer tag, stub as a file).
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';

const root = path.resolve(import.meta.dirname, '../..');
const fixtures = path.join(root, 'test/e2e/fixtures');
let collector: Collector;

test.beforeAll(async () => {
  collector = await startCollector({
    staticDirs: [
      { prefix: '/dist/', dir: path.join(root, 'dist') },
      { prefix: '/fixtures/', dir: fixtures },
    ],
  });
});
test.afterAll(() => collector.close());
test.beforeEach(() => collector.reset());

type Pre = { n: number; before: number; after: number; stub: boolean };
type Win = { __pre: Pre[]; __preFlush: Promise<string>; outbox: any; Outbox: any; __violations: string[] };

/** Page errors and console errors, which must stay empty. */
function watch(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  return errors;
}

/** Waits until the real client has replaced the stub. */
async function waitForClient(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const w = window as unknown as Win;
    return !!w.Outbox && !!w.outbox && !('q' in w.outbox);
  });
}

const ms = (iso: string) => Date.parse(iso);

test('stub + async tag: calls made before and after load are stored in order, with their call-time timestamps', async ({ page }) => {
  const errors = watch(page);
  // Hold the library back so the calls before it clearly precede its arrival.
  await page.route('**/dist/outbox.global.js', async (route) => {
    await new Promise((r) => setTimeout(r, 700));
    await route.continue();
  });
  await page.goto(`${collector.url}/fixtures/script-tag.html`);
  await waitForClient(page);
  expect(await page.evaluate(() => (window as unknown as Win).__preFlush)).toBe('flushed');
  const pre = await page.evaluate(() => (window as unknown as Win).__pre);
  expect(pre.map((p) => [p.n, p.stub])).toEqual([[1, true], [2, true], [3, true]]); // all went to the stub
  // The flush called on the stub settled after the real client sent the three queued events.
  expect(collector.events().map((e) => [e.type, (e.body as { n: number }).n])).toEqual([['pre', 1], ['pre', 2], ['pre', 3]]);

  const post = await page.evaluate(async () => {
    const w = window as unknown as Win;
    const times: { before: number; after: number }[] = [];
    for (const n of [4, 5]) {
      const before = Date.now();
      w.outbox.track('post', { n });
      times.push({ before, after: Date.now() });
    }
    await w.outbox.flush();
    const entry = performance.getEntriesByType('resource').find((r) => r.name.endsWith('/dist/outbox.global.js')) as PerformanceResourceTiming;
    return { times, loadedAt: performance.timeOrigin + entry.responseEnd, stats: w.outbox.stats() };
  });
  const events = collector.events();
  expect(events.map((e) => [e.type, (e.body as { n: number }).n])).toEqual([
    ['pre', 1],
    ['pre', 2],
    ['pre', 3],
    ['post', 4],
    ['post', 5],
  ]);
  // Each event carries the time track() was called — for the stubbed ones, before the library even arrived.
  for (const [i, p] of pre.entries()) {
    const ts = ms(events[i]!.timestamp);
    expect(ts).toBeGreaterThanOrEqual(p.before);
    expect(ts).toBeLessThanOrEqual(p.after);
    expect(ts).toBeLessThan(post.loadedAt);
  }
  for (const [i, t] of post.times.entries()) {
    const ts = ms(events[3 + i]!.timestamp);
    expect(ts).toBeGreaterThanOrEqual(t.before);
    expect(ts).toBeLessThanOrEqual(t.after);
  }
  expect(post.stats).toMatchObject({ sent: 5, queued: 0, inflight: 0 });
  expect(Object.values(post.stats.dropped as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(0);
  expect(collector.requests().every((r) => r.auth === 'bearer')).toBe(true); // data-public-key
  expect(collector.stats().duplicates).toBe(0);
  expect(errors).toEqual([]);
});

test('the inline stub in the fixture and docs/browser.md is dist/outbox-stub.js, and a few hundred bytes', () => {
  const stub = readFileSync(path.join(root, 'dist/outbox-stub.js'), 'utf8').split('\n')[0]!;
  expect(stub.length).toBeLessThan(400);
  expect(readFileSync(path.join(fixtures, 'script-tag.html'), 'utf8')).toContain(`<script>${stub}</script>`);
  expect(readFileSync(path.join(root, 'docs/browser.md'), 'utf8')).toContain(`<script>${stub}</script>`);
});

test.describe("a page served with Content-Security-Policy: script-src 'self'", () => {
  let server: http.Server;
  let origin: string;

  test.beforeAll(async () => {
    // Serves the page (with the CSP header), dist/ and the fixtures; the events go straight to the collector.
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const csp = `default-src 'self'; script-src 'self'; connect-src 'self' ${collector.url}; worker-src 'none'; object-src 'none'`;
      const send = (status: number, type: string, body: string | Buffer) => {
        res.writeHead(status, { 'Content-Type': type, 'Content-Security-Policy': csp, 'Cache-Control': 'no-store' });
        res.end(body);
      };
      try {
        if (url.pathname === '/') {
          const html = readFileSync(path.join(fixtures, 'script-tag-csp.html'), 'utf8').replace('{{COLLECTOR}}', collector.url);
          return send(200, 'text/html; charset=utf-8', html);
        }
        if (url.pathname === '/favicon.ico') return send(204, 'image/x-icon', '');
        const m = /^\/(dist|fixtures)\/([\w.-]+\.js)$/.exec(url.pathname);
        if (!m) return send(404, 'text/plain', 'not found');
        send(200, 'text/javascript', readFileSync(path.join(m[1] === 'dist' ? path.join(root, 'dist') : fixtures, m[2]!)));
      } catch {
        send(404, 'text/plain', 'not found');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  test.afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('stub file + deferred tag deliver every event, with no CSP violation', async ({ page }) => {
    const errors = watch(page);
    await page.addInitScript(() => {
      const w = window as unknown as Win;
      w.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) => w.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    await page.goto(`${origin}/`);
    await waitForClient(page);
    expect(await page.evaluate(() => (window as unknown as Win).__preFlush)).toBe('flushed');
    const pre = await page.evaluate(() => (window as unknown as Win).__pre);
    expect(pre.map((p) => p.stub)).toEqual([true, true]);
    const stats = await page.evaluate(async () => {
      const w = window as unknown as Win;
      w.outbox.track('post', { n: 3 });
      await w.outbox.flush();
      return w.outbox.stats();
    });
    expect(stats).toMatchObject({ sent: 3, queued: 0 });
    const events = collector.events();
    expect(events.map((e) => [e.type, (e.body as { n: number }).n])).toEqual([['pre', 1], ['pre', 2], ['post', 3]]);
    for (const [i, p] of pre.entries()) {
      expect(ms(events[i]!.timestamp)).toBeGreaterThanOrEqual(p.before);
      expect(ms(events[i]!.timestamp)).toBeLessThanOrEqual(p.after);
    }
    expect(await page.evaluate(() => (window as unknown as Win).__violations)).toEqual([]);
    expect(errors).toEqual([]);

    // Control: the listener does see violations on this page — an inline script is refused and reported.
    await page.addScriptTag({ content: 'window.__inlineRan = true;' }).catch(() => undefined);
    await expect.poll(() => page.evaluate(() => (window as unknown as Win).__violations)).toEqual([expect.stringMatching(/^script-src/)]);
    expect(await page.evaluate(() => (window as unknown as { __inlineRan?: boolean }).__inlineRan)).toBeUndefined();
  });
});

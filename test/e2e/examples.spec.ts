// The page examples of examples/ (page + relay, script tag, service worker), installed from the packed tarball into
// the example app (test/examples/app.ts) and served by their own servers, whose relay forwards to the real
// collector (Langfuse v4 mode); Chromium records through them and the collector must hold what the page recorded.
import { expect, test, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { appDir, prepareExampleApp } from '../examples/app';

const KEYS = { LANGFUSE_PUBLIC_KEY: 'pk-lf-example', LANGFUSE_SECRET_KEY: 'sk-lf-example' };
let collector: Collector;
const servers: ChildProcess[] = [];

test.beforeAll(async () => {
  test.setTimeout(180_000);
  prepareExampleApp();
  collector = await startCollector({ langfuse: 'v4', publicKeys: [KEYS.LANGFUSE_PUBLIC_KEY], secretKeys: [KEYS.LANGFUSE_SECRET_KEY] });
});
test.afterAll(async () => {
  for (const server of servers) server.kill();
  await collector?.close();
});
test.beforeEach(() => collector.reset());

/** Starts an example's server (PORT=0: a free port) with the relay pointed at the collector; resolves its URL. */
function serve(script: string): Promise<string> {
  const child = spawn(process.execPath, [path.join(appDir, script)], {
    cwd: path.dirname(path.join(appDir, script)),
    env: { PATH: process.env.PATH ?? '', ...KEYS, LANGFUSE_BASE_URL: collector.url, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  servers.push(child);
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(seen);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code}: ${seen}`)));
  });
}

/** Page errors and console errors, which must stay empty. */
function watch(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`console.${m.type()}: ${m.text()}`);
  });
  return errors;
}

test('page + relay: a chat turn with its generation and a thumbs-up score arrive through the relay', async ({ page }) => {
  const url = await serve('page-relay/dist/server.js');
  const errors = watch(page);
  await page.goto(url);
  await page.click('#ask button');
  await expect(page.locator('#log li')).toHaveText(['You asked: What is Outbox?']);
  await page.click('#thumbs-up');
  const [turn] = await collector.waitFor((c) => (c.observations({ name: 'chat-turn' }).length > 0 ? c.observations({ name: 'chat-turn' }) : null), 20_000);
  expect(turn!.trace.name).toBe('support-chat');
  const [answer] = await collector.waitFor((c) => (c.observations({ name: 'answer' }).length > 0 ? c.observations({ name: 'answer' }) : null), 20_000);
  expect(answer).toMatchObject({ type: 'generation', model: 'gpt-4o-mini', parentObservationId: turn!.id });
  const [score] = await collector.waitFor((c) => (c.scores({ traceId: turn!.traceId }).length > 0 ? c.scores({ traceId: turn!.traceId }) : null), 20_000);
  expect(score).toMatchObject({ name: 'user-feedback', value: 1, dataType: 'BOOLEAN' });
  expect(errors).toEqual([]);
});

test('script tag: the stub-queued score and the page-view trace arrive through the relay', async ({ page }) => {
  const url = await serve('script-tag/server.mjs');
  const errors = watch(page);
  await page.goto(url);
  const [view] = await collector.waitFor((c) => (c.observations({ name: 'page-view' }).length > 0 ? c.observations({ name: 'page-view' }) : null), 20_000);
  expect(view!.trace.name).toBe('script-tag-page');
  await collector.waitFor((c) => c.scores().some((s) => s.name === 'page-loaded' && s.value === 1), 20_000);
  expect(errors).toEqual([]);
});

test('service worker: a score the relay could not deliver is taken over by the worker and delivered later', async ({ page }) => {
  const url = await serve('service-worker/dist/server.js');
  await page.goto(url);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 20_000 });
  collector.setFault({ mode: 'status', status: 503, path: 'ingestion' });
  await page.click('#rate');
  // The relay answers 503 while the collector fails; the worker stores the batch and answers the page 202.
  await page.waitForFunction(() => (window as unknown as { outbox: { stats(): { handedOff: number } } }).outbox.stats().handedOff === 1, undefined, { timeout: 20_000 });
  expect(collector.scores()).toEqual([]);
  collector.setFault({ mode: 'none' });
  await page.reload(); // a new page asks the worker to replay (Chromium's Background Sync would also retry later)
  const [score] = await collector.waitFor((c) => (c.scores().length > 0 ? c.scores() : null), 30_000);
  expect(score).toMatchObject({ name: 'page-rating', value: 5, sessionId: 'visit-1' });
});

// The demo as a user runs it: the real command (node demo/main.mjs, or demo/worker/run.mjs) on a free port with a
// temporary data folder, the printed URL opened in Chromium, the page's own buttons clicked, and the dashboard's
// numbers checked against the collector's control API. The page sends through the relay (Node at /lf, or the
// relay Worker) into the collector in Langfuse v4 mode. The build (dist/) is done before Playwright runs.
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
  observationsStored: number;
  spanDuplicates: number;
  tracesStored: number;
  scoresStored: number;
  refusedEvents: number;
  byStatus: Record<string, number>;
}

interface Observation {
  id: string;
  traceId: string;
  parentObservationId: string | null;
  type: string;
  name: string;
  model: string | null;
  usageDetails: Record<string, number> | null;
  input: string | null;
  output: string | null;
  arrivals: number;
  environment: string;
  metadata: Record<string, unknown>;
  trace: { name: string | null; sessionId: string | null; userId: string | null };
}

interface Score {
  id: string;
  name: string;
  value: number | string;
  dataType: string | null;
  traceId: string | null;
  sessionId: string | null;
}

const DEMO_AUTH = `Basic ${Buffer.from('pk-lf-demo:sk-lf-demo').toString('base64')}`;

/** The collector's control API of a running demo. */
function control(url: string) {
  const get = async <T>(path: string): Promise<T> => (await fetch(new URL(path, url))).json() as Promise<T>;
  return {
    stats: () => get<CollectorStats>('/control/stats'),
    observations: async () => (await get<{ observations: Observation[] }>('/control/observations?limit=100000')).observations,
    scores: async () => (await get<{ scores: Score[] }>('/control/scores')).scores,
    relay: () => get<{ received: number; forwarded: number; duplicates: number; upstreamFailures: number } | null>('/control/relay'),
  };
}

test('npm run demo: one URL; 100 turns through a 500 outage; the dashboard matches the collector', async ({ page }) => {
  test.setTimeout(120_000);
  const demo = await startDemo('demo/main.mjs');
  try {
    // The one line a user sees from the demo itself (the build's size table comes before it, from npm run demo).
    expect(demo.output().trim().split('\n')).toEqual([`Outbox demo: ${demo.url}`]);
    const base = new URL(demo.url);
    const c = control(demo.url);

    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.setViewportSize({ width: 1280, height: 1000 });
    // ?sw=off: the service worker would take the failed score batches into its Background Sync queue ("handed to
    // SW") instead of the client retrying them; the next test watches that.
    await page.goto(`${demo.url}?sw=off`);
    await expect(page.locator('#stream-state')).toHaveText('● live');
    await expect(page.locator('#chart canvas').first()).toBeVisible();

    await page.getByRole('button', { name: '500' }).click();
    await expect(page.locator('#fault')).toHaveText('500');
    await page.getByRole('button', { name: '100 turns' }).click();

    // While the collector answers 500, the relay answers the page 503: the dashboard shows the relay's upstream
    // failures, the client's retries and the collector's 500s, and nothing is stored.
    await expect.poll(() => shown(page, 'c-retried'), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect.poll(() => shown(page, 's-status-500'), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect.poll(() => shown(page, 'r-upstreamFailures'), { timeout: 30_000 }).toBeGreaterThan(0);
    expect(await shown(page, 'c-sent')).toBe(0);
    const during = await c.stats();
    expect([during.observationsStored, during.scoresStored]).toEqual([0, 0]);

    await page.getByRole('button', { name: 'back to normal' }).click();
    await expect(page.locator('#fault')).toHaveText('none');

    // Recovery: 100 traces of 3 observations and 100 scores, each acknowledged and stored once.
    await expect.poll(() => shown(page, 'c-sent'), { timeout: 60_000 }).toBe(400);
    await expect.poll(() => shown(page, 's-observationsStored'), { timeout: 30_000 }).toBe(300);
    await expect.poll(() => shown(page, 's-scoresStored'), { timeout: 30_000 }).toBe(100);
    expect(await shown(page, 'c-tracked')).toBe(400);
    expect(await shown(page, 'c-queued')).toBe(0);
    expect(await shown(page, 'c-inflight')).toBe(0);
    expect(await shown(page, 'c-retried')).toBeGreaterThan(0);

    // What the collector stored: Langfuse's shape of a chat turn, nothing refused, nothing twice.
    const observations = await c.observations();
    expect(observations).toHaveLength(300);
    expect(observations.every((o) => o.arrivals === 1)).toBe(true);
    const byId = new Map(observations.map((o) => [o.id, o]));
    const roots = observations.filter((o) => o.type === 'span');
    expect(roots).toHaveLength(100);
    expect(new Set(roots.map((o) => o.traceId)).size).toBe(100);
    for (const root of roots) {
      expect(root).toMatchObject({ name: 'chat-turn', parentObservationId: null, environment: 'demo', trace: { name: 'support-chat', userId: 'demo-user' } });
    }
    for (const generation of observations.filter((o) => o.type === 'generation')) {
      expect(generation).toMatchObject({ name: 'answer', model: 'gpt-4o-mini' });
      expect(byId.get(generation.parentObservationId!)?.type).toBe('span');
      expect(generation.usageDetails).toMatchObject({ input: expect.any(Number), output: expect.any(Number), total: expect.any(Number) });
      expect(JSON.parse(generation.input!)).toContainEqual(expect.objectContaining({ role: 'user' }));
      expect(JSON.parse(generation.output!)).toMatchObject({ role: 'assistant' });
    }
    const tools = observations.filter((o) => o.type === 'tool');
    expect(tools).toHaveLength(100);
    for (const tool of tools) expect(byId.get(tool.parentObservationId!)).toMatchObject({ type: 'generation', traceId: tool.traceId });
    const scores = await c.scores();
    expect(scores).toHaveLength(100);
    expect(new Set(scores.map((s) => s.traceId))).toEqual(new Set(roots.map((o) => o.traceId)));
    expect(scores.every((s) => s.name === 'answer-relevance' && typeof s.value === 'number')).toBe(true);

    const final = await c.stats();
    expect(final).toMatchObject({ observationsStored: 300, scoresStored: 100, tracesStored: 100, spanDuplicates: 0, duplicates: 0, refusedEvents: 0 });
    expect(final.byStatus['500']).toBeGreaterThan(0);
    const relay = await c.relay();
    expect(relay).toMatchObject({ forwarded: 400, duplicates: 0 });
    expect(relay!.upstreamFailures).toBeGreaterThan(0);
    await expect.poll(async () => ({
      requests: await shown(page, 's-requests'),
      observationsStored: await shown(page, 's-observationsStored'),
      spanDuplicates: await shown(page, 's-spanDuplicates'),
      tracesStored: await shown(page, 's-tracesStored'),
      scoresStored: await shown(page, 's-scoresStored'),
      duplicates: await shown(page, 's-duplicates'),
      status500: await shown(page, 's-status-500'),
      forwarded: await shown(page, 'r-forwarded'),
      byType: await page.locator('#type-table').innerText(),
    })).toEqual({
      requests: final.requests,
      observationsStored: 300,
      spanDuplicates: 0,
      tracesStored: 100,
      scoresStored: 100,
      duplicates: 0,
      status500: final.byStatus['500'],
      forwarded: 400,
      byType: 'score-create\t100',
    });

    // The traces panel: the newest 20 as trees, span → generation → tool, each with its score.
    await expect(page.locator('#traces article.trace')).toHaveCount(20);
    const newest = page.locator('#traces article.trace').first();
    await expect(newest.locator('.trace-name')).toHaveText('support-chat');
    await expect(newest.locator('.score')).toHaveText([/^answer-relevance = 0\.\d+$/]);
    await expect(newest.locator('.tree > li > .obs-line .obs-name')).toHaveText('chat-turn');
    await expect(newest.locator('.tree > li > ul > li > .obs-line .obs-name')).toHaveText('answer');
    await expect(newest.locator('.tree > li > ul > li > ul > li > .obs-line .obs-name')).toHaveText('search-docs');
    await expect(newest.locator('.obs-model')).toContainText('gpt-4o-mini');

    // "score the last trace": one more score, on the trace of turn 100, shown in its header.
    await page.getByRole('button', { name: 'score the last trace' }).click();
    await expect.poll(() => shown(page, 's-scoresStored'), { timeout: 30_000 }).toBe(101);
    const feedback = (await c.scores()).filter((s) => s.name === 'user-feedback');
    expect(feedback.map((s) => [s.dataType, s.value])).toEqual([['BOOLEAN', 1]]);
    const lastTurn = roots.find((o) => o.traceId === feedback[0]!.traceId);
    expect(String(lastTurn?.metadata.turn)).toBe('100');
    await expect(page.locator(`#traces article.trace[data-trace-id="${lastTurn!.traceId}"] .score`)).toHaveText([/^answer-relevance/, 'user-feedback = 1']);
    await expect(page.locator('#log')).toContainText('collector fault: 500');

    // The README's picture: every run saves it under test-results/; UPDATE_SCREENSHOT=1 refreshes docs/dashboard.png.
    const shot = await page.screenshot({ path: path.join(root, 'test-results/dashboard.png'), fullPage: true });
    if (process.env.UPDATE_SCREENSHOT === '1') writeFileSync(path.join(root, 'docs/dashboard.png'), shot);
    await newest.screenshot({ path: path.join(root, 'test-results/dashboard-trace.png') });

    // Every value is rendered as text: a span and a score whose names are markup stay text.
    const hostile = '<img id="pwned" src="x" onerror="window.__pwned = 1">';
    const traceId = 'abcdef0123456789abcdef0123456789';
    const nowNs = `${Date.now()}000000`;
    const span = await fetch(new URL('/api/public/otel/v1/traces', base), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: DEMO_AUTH },
      body: JSON.stringify({
        resourceSpans: [{
          resource: { attributes: [] },
          scopeSpans: [{
            scope: { name: 'hostile-test' },
            spans: [{
              traceId, spanId: '0123456789abcdef', name: hostile, kind: 1, startTimeUnixNano: nowNs, endTimeUnixNano: nowNs,
              attributes: [{ key: 'langfuse.trace.name', value: { stringValue: hostile } }],
            }],
          }],
        }],
      }),
    });
    expect(span.status).toBe(200);
    const score = await fetch(new URL('/api/public/ingestion', base), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: DEMO_AUTH },
      body: JSON.stringify({
        batch: [{ id: 'hostile-1', type: 'score-create', timestamp: new Date().toISOString(), body: { name: hostile, value: hostile, traceId } }],
        metadata: { batch_id: 'b-hostile' },
      }),
    });
    expect(score.status).toBe(207);
    const hostileTrace = page.locator(`#traces article.trace[data-trace-id="${traceId}"]`);
    await expect(hostileTrace.locator('.trace-name')).toHaveText(hostile);
    await expect(hostileTrace.locator('.obs-name')).toHaveText(hostile);
    await expect(hostileTrace.locator('.score')).toHaveText(`${hostile} = ${hostile}`);
    await expect(page.locator('#events tbody tr').first()).toContainText('"name":"<img id=');
    expect(await page.locator('#pwned').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

    expect(errors).toEqual([]);
  } finally {
    expect(await demo.stop()).toBe(0); // SIGTERM stops it cleanly
  }
});

test('a burst of 10 000 observations: every one stored once, in requests of at most 500 spans', async ({ page }) => {
  test.setTimeout(120_000);
  const demo = await startDemo('demo/main.mjs');
  try {
    const c = control(demo.url);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${demo.url}?sw=off`);
    await page.getByRole('button', { name: 'a burst of 10 000 observations' }).click();
    await expect.poll(() => shown(page, 'c-sent'), { timeout: 90_000 }).toBe(10_000);
    await expect.poll(() => shown(page, 's-observationsStored'), { timeout: 30_000 }).toBe(10_000);
    await expect.poll(() => shown(page, 's-tracesStored'), { timeout: 30_000 }).toBe(2_500);
    expect(await page.locator('#dropped-table tbody td:last-child').allInnerTexts()).toEqual(Array(7).fill('0'));
    const stats = await c.stats();
    expect(stats).toMatchObject({ observationsStored: 10_000, tracesStored: 2_500, spanDuplicates: 0 });
    const observations = await c.observations();
    expect(observations.filter((o) => o.type === 'embedding').every((o) => o.model === 'text-embedding-3-small')).toBe(true);
    expect(new Set(observations.map((o) => o.type))).toEqual(new Set(['span', 'guardrail', 'embedding', 'tool']));
    const { requests } = (await (await fetch(new URL('/control/requests', demo.url))).json()) as { requests: { path: string; count: number }[] };
    const otlp = requests.filter((r) => r.path === 'otlp');
    expect(otlp.length).toBeGreaterThanOrEqual(20);
    expect(Math.max(...otlp.map((r) => r.count))).toBeLessThanOrEqual(500);
    expect(errors).toEqual([]);
  } finally {
    expect(await demo.stop()).toBe(0);
  }
});

test('with the service worker (the default page): a 500 hands the scores to it, and it replays them on recovery', async ({ page }) => {
  test.setTimeout(120_000);
  const demo = await startDemo('demo/main.mjs');
  try {
    const c = control(demo.url);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(demo.url);
    await expect(page.locator('#c-sw')).toHaveText('active, controls this page', { timeout: 30_000 });
    await page.getByRole('button', { name: '500' }).click();
    await expect(page.locator('#fault')).toHaveText('500');
    await page.getByRole('button', { name: '100 turns' }).click();
    // The worker takes the ingestion path (/lf/api/public/ingestion): it answers the page 202 (queued) for each
    // failed score batch, so the client counts the 100 scores handed off; the spans stay with the page's retries.
    await expect.poll(() => shown(page, 'c-handedOff'), { timeout: 30_000 }).toBe(100);
    await expect.poll(() => shown(page, 'c-retried'), { timeout: 30_000 }).toBeGreaterThan(0);
    const during = await c.stats();
    expect([during.observationsStored, during.scoresStored]).toEqual([0, 0]);
    await page.getByRole('button', { name: 'back to normal' }).click();
    await expect(page.locator('#log')).toContainText('asked the service worker to replay its queue');
    await expect.poll(() => shown(page, 's-scoresStored'), { timeout: 60_000 }).toBe(100);
    await expect.poll(() => shown(page, 'c-swDelivered'), { timeout: 30_000 }).toBe(100);
    await expect.poll(() => shown(page, 's-observationsStored'), { timeout: 60_000 }).toBe(300);
    await expect.poll(() => shown(page, 'c-sent'), { timeout: 30_000 }).toBe(300);
    const scores = await c.scores();
    expect(new Set(scores.map((s) => s.id)).size).toBe(100);
    expect((await c.stats()).spanDuplicates).toBe(0);
    expect(errors).toEqual([]);
  } finally {
    expect(await demo.stop()).toBe(0);
  }
});

test('the script-tag page sends through the relay with dist/outbox.global.js configured by data-* attributes', async ({ page }) => {
  const demo = await startDemo('demo/main.mjs');
  try {
    const c = control(demo.url);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(new URL('/script.html', demo.url).href);
    await page.getByRole('button', { name: '100 turns' }).click();
    // 100 turns of 2 observations, plus the score the stub recorded in the head before the library loaded.
    await expect.poll(() => shown(page, 'c-sent'), { timeout: 30_000 }).toBe(201);
    await expect.poll(() => shown(page, 's-observationsStored'), { timeout: 30_000 }).toBe(200);
    await expect(page.locator('#s-scoresStored')).toHaveText('1');
    const observations = await c.observations();
    expect(observations.filter((o) => o.type === 'span').every((o) => o.trace.name === 'script-chat')).toBe(true);
    expect(observations.filter((o) => o.type === 'generation')).toHaveLength(100);
    expect((await c.scores()).map((s) => [s.name, s.sessionId])).toEqual([['script-page-visit', 'script-demo-session']]);
    expect((await c.relay())?.forwarded).toBe(201);
    await expect(page.locator('#origin')).toHaveText('(window.outbox from the tag)');
    expect(await page.evaluate(() => typeof (window as unknown as { outbox?: { startObservation?: unknown } }).outbox?.startObservation)).toBe('function');
    expect(errors).toEqual([]);
  } finally {
    expect(await demo.stop()).toBe(0);
  }
});

test('npm run demo:worker: the page sends through the relay Worker, and a traced Worker delivers into the same collector', async ({ page }) => {
  test.setTimeout(240_000);
  const workerPort = await freePort();
  const demo = await startDemo('demo/worker/run.mjs', ['--worker-port', String(workerPort)], 180_000);
  try {
    expect(demo.output().trim().split('\n')).toEqual([`Outbox demo: ${demo.url}`]);
    const workerUrl = `http://127.0.0.1:${workerPort}`;
    expect(new URL(demo.url).searchParams.get('worker')).toBe(workerUrl);
    const c = control(demo.url);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${demo.url}&sw=off`);
    await expect(page.locator('#relay-url')).toHaveText(`${workerUrl}/lf`);

    // The page's chat turn goes through the relay in the Worker: the Node relay sees nothing.
    await page.getByRole('button', { name: '1 chat turn' }).click();
    await expect.poll(() => shown(page, 'c-sent'), { timeout: 30_000 }).toBe(4);
    await expect.poll(() => shown(page, 's-observationsStored'), { timeout: 30_000 }).toBe(3);
    await expect.poll(() => shown(page, 's-scoresStored'), { timeout: 30_000 }).toBe(1);
    expect(await c.relay()).toMatchObject({ requests: 0, received: 0 });

    // The traced Worker: one worker-request trace (a span holding a generation) per call.
    await page.getByRole('button', { name: 'call the Worker ×5' }).click();
    await expect(page.locator('#worker-status')).toHaveText('answers: 200, 200, 200, 200, 200', { timeout: 30_000 });
    await expect.poll(() => shown(page, 's-observationsStored'), { timeout: 30_000 }).toBe(13);
    const observations = await c.observations();
    const requests = observations.filter((o) => o.trace.name === 'worker-request' && o.type === 'span');
    expect(requests.map((o) => JSON.parse(o.input!).path).sort()).toEqual(['/demo/0', '/demo/1', '/demo/2', '/demo/3', '/demo/4']);
    expect(observations.filter((o) => o.environment === 'demo-worker' && o.type === 'generation')).toHaveLength(5);
    await expect(page.locator('#traces article.trace .trace-name').filter({ hasText: 'worker-request' })).toHaveCount(5);
    const log = (await (await fetch(new URL('/control/requests', demo.url))).json()) as { requests: { auth: string }[] };
    expect(log.requests.every((r) => r.auth === 'basic')).toBe(true); // the relay and the Worker both send pk:sk
    expect((await c.stats()).spanDuplicates).toBe(0);
    expect(errors).toEqual([]);
  } finally {
    expect(await demo.stop()).toBe(0);
  }
});

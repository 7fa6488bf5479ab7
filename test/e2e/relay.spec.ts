// Traces from a page to Langfuse through outbox/relay, end to end: page (durable queue, unload path) → relay on
// the app's origin (/lf, secret key on the server) → the collector answering as Langfuse v4. Counts unique
// observations and duplicates (Langfuse's OTLP path stores every resend).
import { expect, test, type Page } from '@playwright/test';
import { BUNDLE } from './fixtures/page';
import { RELAY_PK, startRelayApp, type RelayApp } from './fixtures/relay-app';

let app: RelayApp;

test.beforeAll(async () => {
  app = await startRelayApp();
});
test.afterAll(() => app.close());
test.beforeEach(() => app.collector.reset());

async function open(page: Page, options: Record<string, unknown> = {}): Promise<void> {
  await page.goto(`${app.url}/fixtures/blank.html`);
  await page.evaluate(
    async ({ bundle, options }) => {
      const { createOutbox } = await import(bundle);
      const w = window as unknown as Record<string, unknown>;
      const errors: string[] = [];
      w.outboxErrors = errors;
      w.outbox = createOutbox({ relay: '/lf', publicKey: options.pk, flushInterval: 1, ...options.rest, onError: (e: Error) => errors.push(e.message) });
    },
    { bundle: BUNDLE, options: { pk: RELAY_PK, rest: options } },
  );
}

/** `count` observations tagged by name prefix, in one task: each a root span with one generation child. */
async function observe(page: Page, tag: string, count: number): Promise<void> {
  await page.evaluate(
    ({ tag, count }) => {
      const outbox = (window as unknown as { outbox: import('../../src/index').Outbox }).outbox;
      for (let i = 0; i < count; i++) outbox.startObservation(`${tag}-${i}`, { input: { i, pad: 'x'.repeat(100) } }, { trace: { name: tag } }).end();
    },
    { tag, count },
  );
}

function arrived(tag: string): { unique: number; duplicates: number } {
  const obs = app.collector.observations().filter((o) => o.name.startsWith(`${tag}-`));
  return { unique: obs.length, duplicates: obs.reduce((n, o) => n + o.arrivals - 1, 0) };
}

test('200 observations, then page.goto(about:blank): 200/200 within 5 s, no duplicate', async ({ page }) => {
  await open(page);
  await observe(page, 'leave', 200);
  await page.goto('about:blank');
  await expect.poll(() => arrived('leave').unique, { timeout: 5_000 }).toBe(200);
  expect(arrived('leave').duplicates).toBe(0);
});

test('three tabs, 100 observations each, all navigate away: 300/300, no duplicate', async ({ context }) => {
  const tabs = [await context.newPage(), await context.newPage(), await context.newPage()];
  for (const t of tabs) await open(t);
  await Promise.all(tabs.map((t, n) => observe(t, `tab${n}`, 100)));
  await Promise.all(tabs.map((t) => t.goto('about:blank')));
  for (let n = 0; n < 3; n++) await expect.poll(() => arrived(`tab${n}`).unique, { timeout: 10_000 }).toBe(100);
  const dup = [0, 1, 2].reduce((s, n) => s + arrived(`tab${n}`).duplicates, 0);
  test.info().annotations.push({ type: 'measured', description: `${dup} duplicate(s) of 300` });
  expect(dup).toBeLessThanOrEqual(0);
});

test('offline → 200 observations → close → online → reopen: all delivered within 5 s of reopening', async ({ context }) => {
  const first = await context.newPage();
  await open(first, { timing: { sentGraceMs: 60_000 } });
  await context.setOffline(true);
  await observe(first, 'offline', 200);
  await first.waitForTimeout(300); // the write-ahead commit (no constant waited for: IndexedDB's own latency)
  await first.close();
  await context.setOffline(false);
  const second = await context.newPage();
  await open(second, { timing: { sentGraceMs: 60_000 } });
  await expect.poll(() => arrived('offline').unique, { timeout: 5_000 }).toBe(200);
  expect(arrived('offline').duplicates).toBe(0);
});

test('upstream down (503 from the relay), then back: the page keeps its records and delivers them, once', async ({ page }) => {
  app.collector.setFault({ mode: 'status', status: 500, path: 'otlp' });
  await open(page, { retry: { initialDelayMs: 100, maxDelayMs: 300, maxAttempts: 50 } });
  await observe(page, 'outage', 50);
  await expect.poll(() => app.collector.requests().filter((r) => r.path === 'otlp').length, { timeout: 5_000 }).toBeGreaterThan(1);
  expect(arrived('outage').unique).toBe(0);
  app.collector.setFault({ mode: 'none' });
  await expect.poll(() => arrived('outage').unique, { timeout: 10_000 }).toBe(50);
  expect(arrived('outage').duplicates).toBe(0);
  expect(await page.evaluate(() => (window as unknown as { outboxErrors: string[] }).outboxErrors)).toEqual([]);
});

// Observations and scores from a real page: traces go page → relay (outbox/relay under node:http, holding the
// secret key) → the collector answering as Langfuse v4; scores may go straight to Langfuse with the public key.
import { expect, test } from '@playwright/test';
import type { Collector } from '../../demo/collector/server.mjs';
import { bootOutbox } from './fixtures/page';
import { PAGE_RELAY_PK as PK, startPageRelay, type PageRelay } from './fixtures/page-relay';

let app: PageRelay;
let collector: Collector;
let relayUrl: string;

test.beforeAll(async () => {
  app = await startPageRelay();
  ({ collector, relayUrl } = app);
});
test.afterAll(() => app.close());
test.beforeEach(() => collector.reset());

test('an observation never ended arrives once, level WARNING, when the page closes; the ended ones as they were', async ({ context }) => {
  const page = await context.newPage();
  await page.goto(`${collector.url}/fixtures/blank.html`);
  await bootOutbox(page, { relay: relayUrl, endpoint: undefined, publicKey: PK, flushInterval: 3600, flushAt: 1000 });
  const traceId = await page.evaluate(() => {
    const outbox = (window as unknown as { outbox: import('../../src/index').Outbox }).outbox;
    const turn = outbox.startObservation('turn', { input: 'q' }, { trace: { name: 'page-chat', userId: 'u-p' } });
    turn.startObservation('done-step').end();
    turn.startObservation('llm', { model: 'gpt-4o' }, { asType: 'generation' }); // never ended either
    return turn.traceId;
  });
  await page.close({ runBeforeUnload: true });
  await collector.waitFor((c) => (c.observations({ traceId }).length === 3 ? true : null), 10_000);
  const obs = collector.observations({ traceId });
  const by = (name: string) => obs.find((o) => o.name === name)!;
  expect(by('done-step')).toMatchObject({ level: 'DEFAULT', arrivals: 1 });
  for (const name of ['turn', 'llm']) {
    expect(by(name)).toMatchObject({ level: 'WARNING', arrivals: 1, trace: { name: 'page-chat', userId: 'u-p' } });
    expect(by(name).statusMessage).toMatch(/page went away/);
  }
  expect(by('llm')).toMatchObject({ type: 'generation', parentObservationId: by('turn').id });
  expect(collector.stats().spanDuplicates).toBe(0);
});

test('20 scores from a page with only the public key, straight to Langfuse: 20/20 with Authorization', async ({ page }) => {
  await page.goto(`${collector.url}/fixtures/blank.html`);
  await bootOutbox(page, { baseUrl: collector.url, endpoint: undefined, publicKey: PK, storage: 'memory' });
  await page.evaluate(async () => {
    const outbox = (window as unknown as { outbox: import('../../src/index').Outbox }).outbox;
    for (let i = 0; i < 20; i++) outbox.score({ name: `s${i}`, value: i, sessionId: 'sess-page' });
    await outbox.flush();
  });
  expect(collector.scores()).toHaveLength(20);
  expect(collector.requests().every((r) => r.auth === 'bearer' && r.contentType === 'application/json')).toBe(true);
});

test('20 scores right before page.goto(about:blank), public key only: 20/20 within 5 s, every request authenticated, none text/plain', async ({ page }) => {
  await page.goto(`${collector.url}/fixtures/blank.html`);
  await bootOutbox(page, { baseUrl: collector.url, endpoint: undefined, publicKey: PK });
  await page.evaluate(() => {
    const outbox = (window as unknown as { outbox: import('../../src/index').Outbox }).outbox;
    for (let i = 0; i < 20; i++) outbox.score({ name: `leave${i}`, value: i, sessionId: 'sess-leave' });
  });
  await page.goto('about:blank');
  await expect.poll(() => collector.scores().filter((s) => s.name.startsWith('leave')).length, { timeout: 5_000 }).toBe(20);
  const requests = collector.requests().filter((r) => r.path === 'ingestion');
  expect(requests.length).toBeGreaterThan(0);
  expect(requests.every((r) => r.auth === 'bearer' && !r.contentType?.startsWith('text/plain'))).toBe(true);
});

test('a page tracing straight to Langfuse without a relay: the spans are dropped rejected (403) with the relay hint, once on the console', async ({ page }) => {
  const warnings: string[] = [];
  page.on('console', (m) => void (m.type() === 'warning' && warnings.push(m.text())));
  await page.goto(`${collector.url}/fixtures/blank.html`);
  await bootOutbox(page, { baseUrl: collector.url, endpoint: undefined, publicKey: PK, storage: 'memory' });
  const drops = await page.evaluate(async () => {
    const w = window as unknown as { outbox: import('../../src/index').Outbox; outboxDrops: { reason: string; count: number; detail?: string }[] };
    w.outbox.startObservation('a').end();
    await w.outbox.flush();
    w.outbox.startObservation('b').end();
    await w.outbox.flush();
    return w.outboxDrops;
  });
  expect(drops.map((d) => [d.reason, d.count])).toEqual([['rejected', 1], ['rejected', 1]]);
  expect(drops[0]!.detail).toMatch(/403.*outbox\/relay/);
  expect(warnings.filter((w) => /outbox\/relay/.test(w))).toHaveLength(1);
  expect(collector.observations()).toHaveLength(0);
});

// Langfuse's tracing calls in a real page (no AsyncLocalStorage): the documented synchronous context. Inside a
// startActiveObservation()/observe() callback its observation is the active one until the callback's first
// `await`; after it nothing is active (calls there start new traces, without the propagated attributes); the
// handle passed to the callback always reaches its parent. Spans go page → relay → collector (Langfuse v4).
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

/** The calls every client has (TracingCalls), checked on the ESM client and on the script tag's. */
const CALLS = ['startObservation', 'startActiveObservation', 'observe', 'updateActiveObservation', 'propagateAttributes', 'getActiveTraceId', 'getActiveSpanId', 'createTraceId'];

test('the synchronous context: which calls find their parent before and after an await', async ({ page }) => {
  await page.goto(`${collector.url}/fixtures/blank.html`);
  await bootOutbox(page, { relay: relayUrl, endpoint: undefined, publicKey: PK, flushInterval: 3600, storage: 'memory' });
  const facts = await page.evaluate(async (calls) => {
    const outbox = (window as unknown as { outbox: import('../../src/index').Outbox }).outbox;
    const f: Record<string, unknown> = { missing: calls.filter((c) => typeof (outbox as unknown as Record<string, unknown>)[c] !== 'function') };
    const result = await outbox.propagateAttributes({ userId: 'u-page', sessionId: 's-page', tags: ['page'] }, () =>
      outbox.startActiveObservation('root', async (root) => {
        f.rootTrace = root.traceId;
        f.syncActive = outbox.getActiveSpanId() === root.id && outbox.getActiveTraceId() === root.traceId;
        outbox.startObservation('sync-child').end();
        outbox.startActiveObservation('sync-nested', (nested) => {
          f.nestedActive = outbox.getActiveSpanId() === nested.id;
          outbox.startObservation('sync-grandchild').end();
        });
        f.backToRoot = outbox.getActiveSpanId() === root.id;
        const twice = outbox.observe((n: number) => n * 2, { name: 'observed-sync' });
        f.twice = twice(21);
        // An async observed function: its start (before its first await) is synchronous here, so it finds root.
        const later = outbox.observe(async (n: number) => {
          const inside = outbox.getActiveSpanId() !== undefined;
          await Promise.resolve();
          return { n, inside, afterOwnAwait: outbox.getActiveSpanId() ?? null };
        }, { name: 'observed-async' });
        f.later = await later(1);
        // After the first await of this callback: nothing is active.
        f.afterAwait = outbox.getActiveSpanId() ?? null;
        outbox.startObservation('after-await-global').end();
        outbox.updateActiveObservation({ output: 'nowhere to go' });
        root.startObservation('after-await-from-handle').end();
        root.update({ output: 'done' });
        return 'result';
      }),
    );
    f.result = result;
    f.outside = outbox.getActiveSpanId() ?? null;
    f.seeded = await outbox.createTraceId('page-seed');
    await outbox.flush();
    return f;
  }, CALLS);
  expect(facts).toMatchObject({
    missing: [],
    syncActive: true,
    nestedActive: true,
    backToRoot: true,
    twice: 42,
    later: { n: 1, inside: true, afterOwnAwait: null },
    afterAwait: null,
    result: 'result',
    outside: null,
  });
  // Same id as Node's crypto and @langfuse/tracing for the seed.
  const { createHash } = await import('node:crypto');
  expect(facts.seeded).toBe(createHash('sha256').update('page-seed').digest('hex').slice(0, 32));
  const names = ['root', 'sync-child', 'sync-nested', 'sync-grandchild', 'observed-sync', 'observed-async', 'after-await-global', 'after-await-from-handle'];
  await collector.waitFor((c) => (c.observations().length >= names.length ? true : null), 15_000);
  const obs = collector.observations();
  const by = (name: string) => obs.find((o) => o.name === name)!;
  const root = by('root');
  expect(root).toMatchObject({ traceId: facts.rootTrace, parentObservationId: null, output: 'done' });
  for (const name of ['sync-child', 'sync-nested', 'observed-sync', 'observed-async', 'after-await-from-handle']) {
    expect(by(name), name).toMatchObject({ traceId: root.traceId, parentObservationId: root.id, trace: { userId: 'u-page', sessionId: 's-page', tags: ['page'] } });
  }
  expect(by('sync-grandchild')).toMatchObject({ parentObservationId: by('sync-nested').id });
  expect(by('observed-sync')).toMatchObject({ input: '21', output: '42' });
  // Started after the await without a handle: a trace of its own, without the propagated attributes.
  expect(by('after-await-global').parentObservationId).toBeNull();
  expect(by('after-await-global').traceId).not.toBe(root.traceId);
  expect(by('after-await-global').trace).toMatchObject({ userId: null, sessionId: null, tags: [] });
  expect(obs).toHaveLength(names.length);
});

test('the script tag: window.outbox has the same calls, and they trace', async ({ page }) => {
  await page.goto(`${collector.url}/fixtures/blank.html`);
  await page.evaluate(
    ({ relay, pk }) =>
      new Promise<void>((resolve, reject) => {
        const tag = document.createElement('script');
        tag.src = '/dist/outbox.global.js';
        tag.dataset.relay = relay;
        tag.dataset.publicKey = pk;
        tag.dataset.storage = 'memory';
        tag.onload = () => resolve();
        tag.onerror = () => reject(new Error('tag failed to load'));
        document.head.append(tag);
      }),
    { relay: relayUrl, pk: PK },
  );
  const missing = await page.evaluate(async (calls) => {
    const outbox = (window as unknown as { outbox: import('../../src/index').Outbox }).outbox;
    const absent = calls.filter((c) => typeof (outbox as unknown as Record<string, unknown>)[c] !== 'function');
    outbox.startActiveObservation('tag-root', () => {
      outbox.startObservation('tag-child').end();
    });
    await outbox.flush();
    return absent;
  }, CALLS);
  expect(missing).toEqual([]);
  await collector.waitFor((c) => (c.observations().length >= 2 ? true : null), 15_000);
  const by = (name: string) => collector.observations().find((o) => o.name === name)!;
  expect(by('tag-child')).toMatchObject({ parentObservationId: by('tag-root').id, traceId: by('tag-root').traceId });
});

// Node's module-level tracing calls (as @langfuse/tracing exports them) over the default client: the first
// createOutbox() of the process, or the one given to setDefaultOutbox(); the active context is shared by all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import {
  createOutbox,
  createTraceId,
  getActiveSpanId,
  getActiveTraceId,
  getDefaultOutbox,
  observe,
  propagateAttributes,
  setDefaultOutbox,
  startActiveObservation,
  startObservation,
  updateActiveObservation,
} from '../../src/node';

let first: Collector;
let second: Collector;
beforeAll(async () => {
  [first, second] = await Promise.all([startCollector({ langfuse: 'v4' }), startCollector({ langfuse: 'v4' })]);
});
afterAll(async () => {
  await Promise.all([first.close(), second.close()]);
});

describe('module-level calls (Node)', () => {
  it('use the first client created, then the one set by setDefaultOutbox; the context crosses awaits', async () => {
    const a = createOutbox({ baseUrl: first.url, publicKey: 'pk', secretKey: 'sk', flushInterval: 3600 });
    const b = createOutbox({ baseUrl: second.url, publicKey: 'pk', secretKey: 'sk', flushInterval: 3600 });
    expect(getDefaultOutbox()).toBe(a);
    const doubled = observe(async (n: number) => n * 2, { name: 'double' });
    const seen = await propagateAttributes({ userId: 'u-mod' }, () =>
      startActiveObservation('mod-root', async (root) => {
        await new Promise((r) => setTimeout(r, 1));
        startObservation('mod-child').end();
        updateActiveObservation({ output: 'updated' });
        return { trace: getActiveTraceId() === root.traceId, span: getActiveSpanId() === root.id, doubled: await doubled(2) };
      }),
    );
    expect(seen).toEqual({ trace: true, span: true, doubled: 4 });
    expect(getActiveTraceId()).toBeUndefined();
    setDefaultOutbox(b);
    expect(getDefaultOutbox()).toBe(b);
    await doubled(5); // the wrapper looks the client up at each call
    expect(await createTraceId('x')).toBe(await a.createTraceId('x'));
    await Promise.all([a.flush(), b.flush()]);
    const names = (c: Collector) => c.observations().map((o) => o.name).sort();
    expect(names(first)).toEqual(['double', 'mod-child', 'mod-root']);
    expect(names(second)).toEqual(['double']);
    const root = first.observations().find((o) => o.name === 'mod-root')!;
    expect(root).toMatchObject({ output: 'updated', trace: { userId: 'u-mod' } });
    expect(first.observations().find((o) => o.name === 'mod-child')).toMatchObject({ parentObservationId: root.id });
    expect(first.observations().find((o) => o.name === 'double')).toMatchObject({ parentObservationId: root.id, input: '2', output: '4' });
    await Promise.all([a.shutdown(), b.shutdown()]);
  });
});

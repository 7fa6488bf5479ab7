// Langfuse's tracing calls on a Node client (AsyncLocalStorage context), against the collector answering as Langfuse v4.
import { createHash } from 'node:crypto';
import { createTraceId as langfuseCreateTraceId } from '@langfuse/tracing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';
import { createOutbox } from '../../src/node';

let collector: Collector;
beforeAll(async () => {
  collector = await startCollector({ langfuse: 'v4' });
});
afterAll(() => collector.close());
beforeEach(() => collector.reset());

const client = (options: Record<string, unknown> = {}) =>
  createOutbox({ baseUrl: collector.url, publicKey: 'pk-lf-1', secretKey: 'sk-lf-1', flushInterval: 3600, ...options });
const byName = (name: string) => collector.observations().find((o: { name: string }) => o.name === name)!;

describe('tracing calls in Node', () => {
  it('startActiveObservation: children before and after an await find their parent; the result is returned; getActive*', async () => {
    const outbox = client();
    const seen: (string | undefined)[] = [];
    const result = await outbox.propagateAttributes({ userId: 'u-1', sessionId: 's-1', tags: ['a'], metadata: { plan: 'pro' }, traceName: 'chat' }, () =>
      outbox.startActiveObservation('root', async (root) => {
        seen.push(outbox.getActiveTraceId(), outbox.getActiveSpanId());
        outbox.startObservation('before').end();
        await new Promise((r) => setTimeout(r, 5));
        outbox.startObservation('after').end();
        seen.push(outbox.getActiveSpanId());
        expect(root.update({ output: 'done' })).toBe(root);
        return 42;
      }),
    );
    expect(result).toBe(42);
    expect(outbox.getActiveTraceId()).toBeUndefined();
    await outbox.flush();
    const root = byName('root');
    expect(seen).toEqual([root.traceId, root.id, root.id]);
    for (const name of ['before', 'after']) expect(byName(name)).toMatchObject({ parentObservationId: root.id, traceId: root.traceId });
    for (const name of ['root', 'before', 'after']) {
      expect(byName(name).trace).toMatchObject({ userId: 'u-1', sessionId: 's-1', tags: ['a'], name: 'chat', metadata: { plan: 'pro' } });
    }
    expect(root.output).toBe('done');
    await outbox.shutdown();
  });

  it('a throwing callback: ended with ERROR and the message, rethrown; observe of sync and async functions', async () => {
    const outbox = client();
    expect(() => outbox.startActiveObservation('sync-throw', () => { throw new Error('boom'); })).toThrow('boom');
    await expect(outbox.startActiveObservation('async-throw', async () => { throw new Error('later'); })).rejects.toThrow('later');
    const add = outbox.observe((a: number, b: number) => a + b, { name: 'add' });
    const twice = outbox.observe(async function twice(n: number) { return n * 2; });
    expect(add(1, 2)).toBe(3);
    expect(await twice(4)).toBe(8);
    await outbox.flush();
    expect(byName('sync-throw')).toMatchObject({ level: 'ERROR', statusMessage: 'boom' });
    expect(byName('async-throw')).toMatchObject({ level: 'ERROR', statusMessage: 'later' });
    expect(byName('add')).toMatchObject({ input: '[1,2]', output: '3' });
    expect(byName('twice')).toMatchObject({ input: '4', output: '8' });
    await outbox.shutdown();
  });

  it('parentSpanContext, chainable update, createTraceId as @langfuse/tracing makes it', async () => {
    const outbox = client();
    const traceId = await outbox.createTraceId('order-17');
    expect(traceId).toBe(createHash('sha256').update('order-17').digest('hex').slice(0, 32));
    expect(traceId).toBe(await langfuseCreateTraceId('order-17'));
    expect(await outbox.createTraceId()).toMatch(/^[0-9a-f]{32}$/);
    outbox.startObservation('remote-child', { input: 'x' }, { parentSpanContext: { traceId, spanId: 'a'.repeat(16) } }).update({ output: 'y' }).end();
    await outbox.flush();
    expect(byName('remote-child')).toMatchObject({ traceId, parentObservationId: 'a'.repeat(16), output: 'y' });
    await outbox.shutdown();
  });
});

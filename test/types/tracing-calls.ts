// Compiled by `npm test`'s typecheck (tsconfig.json includes test/), never run: the types of the tracing calls.
// Each @ts-expect-error fails the typecheck if the line below it compiles.
import type { Observation, Outbox } from '../../src/node';

export function typeChecks(outbox: Outbox): void {
  // A model, usage or cost belongs to generation-like types only.
  // @ts-expect-error a model on a plain span
  outbox.startObservation('span', { model: 'gpt-4o' });
  // @ts-expect-error usage on a tool
  outbox.startObservation('tool', { usageDetails: { input: 1 } }, { asType: 'tool' });
  outbox.startObservation('llm', { model: 'gpt-4o', usageDetails: { input: 1 } }, { asType: 'generation' });
  outbox.startObservation('embed', { model: 'text-embedding-3-small' }, { asType: 'embedding' });

  // update() returns the observation (chainable) and keeps its type's attributes.
  const llm: Observation<'generation'> = outbox.startObservation('llm', {}, { asType: 'generation' }).update({ model: 'x' }).update({ output: 'y' });
  llm.end();
  const span = outbox.startObservation('s');
  // @ts-expect-error a model on a span's update
  span.update({ model: 'gpt-4o' });
  // @ts-expect-error a model on a child span
  span.startObservation('child', { model: 'x' });
  span.startObservation('child-gen', { model: 'x' }, { asType: 'generation' }).end();
  span.updateTrace({ userId: 'u' }).update({ output: 1 }).end();

  // parentSpanContext beside the other start options.
  outbox.startObservation('remote', {}, { parentSpanContext: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) } });
  // @ts-expect-error parentSpanContext needs a spanId
  outbox.startObservation('remote', {}, { parentSpanContext: { traceId: 'a'.repeat(32) } });

  // startActiveObservation returns fn's result and types the observation by asType.
  const n: number = outbox.startActiveObservation('sync', (o) => (o.update({ output: 1 }), 1));
  const p: Promise<string> = outbox.startActiveObservation('async', async (g) => (g.update({ model: 'm' }), 'x'), { asType: 'generation' });
  // @ts-expect-error a model in a span's callback
  outbox.startActiveObservation('s', (o) => o.update({ model: 'm' }));
  void n;
  void p;

  // observe keeps the function's type.
  const add = outbox.observe((a: number, b: number) => a + b, { name: 'add', captureOutput: false });
  const sum: number = add(1, 2);
  // @ts-expect-error wrong argument type
  add('1', 2);
  void sum;

  outbox.updateActiveObservation({ output: 'x' });
  outbox.updateActiveObservation({ model: 'm' }, { asType: 'generation' });
  // @ts-expect-error a model without a generation-like asType
  outbox.updateActiveObservation({ model: 'm' });
  const r: number = outbox.propagateAttributes({ userId: 'u', tags: ['a'], metadata: { k: 'v' } }, () => 1);
  // @ts-expect-error propagated metadata values are strings
  outbox.propagateAttributes({ metadata: { k: 1 } }, () => 1);
  void r;
  const id: Promise<string> = outbox.createTraceId('seed');
  const active: string | undefined = outbox.getActiveTraceId() ?? outbox.getActiveSpanId();
  void id;
  void active;
}

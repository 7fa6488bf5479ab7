// Shared parts of the otel tests: one global context manager, a provider per processor, the Langfuse scenario
// both processors run, and the field-by-field view of what a collector stored.
import { context } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { observe, propagateAttributes, setLangfuseTracerProvider, startActiveObservation, startObservation } from '@langfuse/tracing';
import type { StoredObservation } from '../../demo/collector/server.mjs';

let booted = false;
/** Registers AsyncLocalStorage context propagation once (what `NodeTracerProvider.register()` does). */
export function bootContext(): void {
  if (booted) return;
  booted = true;
  new NodeTracerProvider().register();
  if (context.active() === undefined) throw new Error('no context manager');
}

/** A provider of its own for one processor (not the global one: each test run is isolated). */
export function providerWith(processor: SpanProcessor): NodeTracerProvider {
  bootContext();
  return new NodeTracerProvider({ spanProcessors: [processor] });
}

/** Observations the scenario makes. */
export const SCENARIO_NAMES = ['chat-turn', 'llm-call', 'web-search', 'cache-hit', 'double', 'rewrite'];

/**
 * A trace as an app instrumented with @langfuse/tracing makes it: propagated trace attributes (user, session,
 * name, tags, metadata, version), an active root span with input/output/metadata, a generation with model,
 * parameters, usage, cost and completion start, a tool, an event, an observed function, and a nested active
 * generation with an error level.
 */
export async function runScenario(provider: NodeTracerProvider): Promise<void> {
  setLangfuseTracerProvider(provider);
  await propagateAttributes(
    { userId: 'user-7', sessionId: 'session-3', traceName: 'support-chat', tags: ['beta', 'eu'], metadata: { plan: 'pro' }, version: '2.4.0' },
    () =>
      startActiveObservation('chat-turn', async (turn) => {
        turn.update({ input: { question: 'What is Outbox?' }, metadata: { channel: 'web' } });
        const llm = startObservation(
          'llm-call',
          { model: 'gpt-4o', modelParameters: { temperature: 0.2, maxTokens: 256 }, input: [{ role: 'user', content: 'What is Outbox?' }] },
          { asType: 'generation' },
        );
        llm.update({
          output: { role: 'assistant', content: 'A loss-free telemetry client.' },
          usageDetails: { input: 12, output: 30 },
          costDetails: { input: 0.00012, output: 0.0009 },
          completionStartTime: new Date('2026-12-01T10:00:00.250Z'),
        });
        llm.end();
        const tool = startObservation('web-search', { input: { query: 'outbox telemetry' } }, { asType: 'tool' });
        tool.update({ output: { hits: 3 } });
        tool.end();
        startObservation('cache-hit', { input: { key: 'faq:outbox' }, level: 'DEBUG' }, { asType: 'event' });
        const double = observe(async (n: number) => n * 2, { name: 'double' });
        await double(21);
        await startActiveObservation(
          'rewrite',
          async (gen) => {
            gen.update({ model: 'gpt-4o-mini', input: 'rewrite', output: 'rewritten', level: 'ERROR', statusMessage: 'rate limited upstream' });
          },
          { asType: 'generation' },
        );
        turn.update({ output: { answer: 'A loss-free telemetry client.' } });
      }),
  );
}

/** What Langfuse would show of one observation, with ids replaced by names and times left out (runs differ). */
export function comparable(observations: StoredObservation[]): Record<string, unknown>[] {
  const nameOf = new Map(observations.map((o) => [o.id, o.name]));
  return observations
    .map((o) => ({
      name: o.name,
      type: o.type,
      parent: o.parentObservationId === null ? null : (nameOf.get(o.parentObservationId) ?? `unknown ${o.parentObservationId}`),
      kind: o.kind,
      input: o.input,
      output: o.output,
      metadata: o.metadata,
      level: o.level,
      statusMessage: o.statusMessage,
      model: o.model,
      modelParameters: o.modelParameters,
      usageDetails: o.usageDetails,
      costDetails: o.costDetails,
      completionStartTime: o.completionStartTime,
      promptName: o.promptName,
      promptVersion: o.promptVersion,
      trace: o.trace,
      environment: o.environment,
      release: o.release,
      version: o.version,
      serviceName: o.serviceName,
      serviceVersion: o.serviceVersion,
      scope: o.scope,
      durationKnown: o.endTime >= o.startTime,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The fields two views differ in, as `name.field: reference → ours`. */
export function differences(reference: Record<string, unknown>[], ours: Record<string, unknown>[]): string[] {
  const out: string[] = [];
  const byName = new Map(ours.map((o) => [o.name as string, o]));
  for (const ref of reference) {
    const mine = byName.get(ref.name as string);
    if (!mine) {
      out.push(`${String(ref.name)}: missing`);
      continue;
    }
    for (const key of Object.keys(ref)) {
      const a = JSON.stringify(ref[key]);
      const b = JSON.stringify(mine[key]);
      if (a !== b) out.push(`${String(ref.name)}.${key}: ${a} → ${b}`);
    }
  }
  for (const o of ours) if (!reference.some((r) => r.name === o.name)) out.push(`${String(o.name)}: extra`);
  return out;
}

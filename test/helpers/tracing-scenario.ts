// One instrumented app, written once against Langfuse's tracing calls and run twice: with `@langfuse/tracing`
// (+ LangfuseSpanProcessor) and with an Outbox client. Imports nothing, so Node and workerd run the same text.

/** The calls the scenario uses: `@langfuse/tracing`'s module functions, or an Outbox client's methods. */
export interface TracingApi {
  startObservation: (name: string, attributes?: any, options?: any) => any;
  startActiveObservation: (name: string, fn: (observation: any) => any, options?: any) => any;
  observe: <F extends (...args: any[]) => any>(fn: F, options?: any) => F;
  updateActiveObservation: (attributes: any, options?: any) => void;
  propagateAttributes: <R>(attributes: any, fn: () => R) => R;
  getActiveTraceId: () => string | undefined;
  getActiveSpanId: () => string | undefined;
  createTraceId: (seed?: string) => Promise<string>;
}

/** Observation names the scenario makes. */
export const TRACING_SCENARIO_NAMES = ['turn', 'before-await', 'after-await', 'llm', 'failing', 'failing-sync', 'add', 'fetch-doc', 'remote-child'];

/** The remote parent of 'remote-child' (a span of another service). */
export const REMOTE_PARENT_SPAN_ID = '00f067aa0ba902b7';

/** What the calls said while the scenario ran (ids compared with the handles', results of the callbacks). */
export interface ScenarioFacts {
  seededTraceId: string;
  activeIsTurn: boolean;
  activeAfterAwaitIsTurn: boolean;
  insideObserve: boolean;
  activeOutside: string | null;
  results: unknown[];
  rethrown: string[];
  turnTraceId: string;
}

export async function runTracingScenario(api: TracingApi): Promise<ScenarioFacts> {
  const facts: Partial<ScenarioFacts> = { results: [], rethrown: [] };
  facts.seededTraceId = await api.createTraceId('outbox-parity-seed');
  const result = await api.propagateAttributes(
    { userId: 'user-7', sessionId: 'session-3', traceName: 'support-chat', tags: ['beta', 'eu'], metadata: { plan: 'pro' }, version: '2.4.0' },
    () =>
      api.startActiveObservation('turn', async (turn) => {
        facts.turnTraceId = turn.traceId;
        facts.activeIsTurn = api.getActiveTraceId() === turn.traceId && api.getActiveSpanId() === turn.id;
        turn.update({ input: { question: 'What is Outbox?' }, metadata: { channel: 'web' } });
        api.startObservation('before-await', { input: 'before' }).end();
        await new Promise((resolve) => setTimeout(resolve, 2));
        facts.activeAfterAwaitIsTurn = api.getActiveSpanId() === turn.id;
        api.startObservation('after-await', { input: 'after' }).end();
        const llm = api.startObservation(
          'llm',
          { model: 'gpt-4o', modelParameters: { temperature: 0.2 }, input: [{ role: 'user', content: 'What is Outbox?' }] },
          { asType: 'generation' },
        );
        llm.update({ output: { role: 'assistant', content: 'A loss-free telemetry client.' }, usageDetails: { input: 12, output: 30 }, costDetails: { input: 0.0001 } }).end();
        api.updateActiveObservation({ metadata: { step: 'answered' } });
        try {
          await api.startActiveObservation('failing', async (tool: any) => {
            tool.update({ input: { url: 'https://example.invalid' } });
            throw new Error('tool failed');
          }, { asType: 'tool' });
        } catch (error) {
          facts.rethrown!.push((error as Error).message);
        }
        try {
          api.startActiveObservation('failing-sync', () => {
            throw new TypeError('sync failed');
          });
        } catch (error) {
          facts.rethrown!.push((error as Error).message);
        }
        const add = api.observe((a: number, b: number) => a + b, { name: 'add' });
        facts.results!.push(add(1, 2));
        const fetchDoc = api.observe(async (id: string) => {
          facts.insideObserve = api.getActiveTraceId() === turn.traceId && api.getActiveSpanId() !== turn.id;
          return { id, text: 'doc' };
        }, { name: 'fetch-doc', asType: 'retriever' });
        facts.results!.push(await fetchDoc('d1'));
        turn.update({ output: { answer: 'A loss-free telemetry client.' } });
        return 'turn-result';
      }),
  );
  facts.results!.push(result);
  api.startObservation('remote-child', { input: 'from another service' }, { parentSpanContext: { traceId: facts.seededTraceId, spanId: REMOTE_PARENT_SPAN_ID, traceFlags: 1 } }).end();
  facts.activeOutside = api.getActiveTraceId() ?? null;
  return facts as ScenarioFacts;
}

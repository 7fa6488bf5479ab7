// What the tracing-calls parity tests compare (Node: test/integration/tracing-parity.test.ts; workerd:
// test/worker/tracing-calls.test.ts).
import { expect } from 'vitest';
import type { Collector } from '../../demo/collector/server.mjs';
import { comparable } from '../otel/helpers';
import { REMOTE_PARENT_SPAN_ID, type ScenarioFacts } from './tracing-scenario';

/** comparable() without the fields that name the sender (service.name, scope), which differ by design. */
export function rows(c: Collector): Record<string, unknown>[] {
  return comparable(c.observations()).map(({ serviceName: _s, serviceVersion: _v, scope: _c, ...row }) => row);
}

/** The trace rows without ids, times and the sender's service name, by name. */
export function traceRows(c: Collector): Record<string, unknown>[] {
  return c
    .traces()
    .map((t): Record<string, unknown> => ({ ...t, id: undefined, startTime: undefined, endTime: undefined, rootObservationId: undefined, serviceName: undefined }))
    .sort((a, b) => String(a.name).localeCompare(String(b.name)));
}

/** The facts both runs must show, so that two equally wrong implementations cannot pass. */
export function expectScenarioFacts(facts: ScenarioFacts, c: Collector): void {
  expect(facts).toMatchObject({
    activeIsTurn: true,
    activeAfterAwaitIsTurn: true,
    insideObserve: true,
    activeOutside: null,
    results: [3, { id: 'd1', text: 'doc' }, 'turn-result'],
    rethrown: ['tool failed', 'sync failed'],
  });
  const got = c.observations();
  const named = (name: string) => got.find((o) => o.name === name)!;
  const turn = named('turn');
  expect(turn).toMatchObject({ parentObservationId: null, traceId: facts.turnTraceId, output: JSON.stringify({ answer: 'A loss-free telemetry client.' }) });
  for (const name of ['before-await', 'after-await', 'llm', 'failing', 'failing-sync', 'add', 'fetch-doc']) {
    expect(named(name), name).toMatchObject({ parentObservationId: turn.id, traceId: turn.traceId });
    expect(named(name).trace, name).toMatchObject({ userId: 'user-7', sessionId: 'session-3', name: 'support-chat', tags: ['beta', 'eu'], metadata: { plan: 'pro' } });
  }
  expect(named('llm')).toMatchObject({ type: 'generation', model: 'gpt-4o', usageDetails: { input: 12, output: 30, total: 42 } });
  expect(named('failing')).toMatchObject({ type: 'tool', level: 'ERROR', statusMessage: 'tool failed' });
  expect(named('failing-sync')).toMatchObject({ level: 'ERROR', statusMessage: 'sync failed' });
  expect(named('add')).toMatchObject({ input: '[1,2]', output: '3' });
  expect(named('fetch-doc')).toMatchObject({ type: 'retriever', input: 'd1' });
  expect(named('remote-child')).toMatchObject({ traceId: facts.seededTraceId, parentObservationId: REMOTE_PARENT_SPAN_ID });
  expect(turn.metadata).toMatchObject({ channel: 'web', step: 'answered' });
}


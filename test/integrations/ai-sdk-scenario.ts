// The AI SDK 7 calls both integrations record (Node, a page and workerd run the same ones): generateText with a tool
// call over two steps, then streamText, on MockLanguageModelV4 from `ai/test` (a model cannot run here; the AI SDK
// around it is real).
import { generateText, jsonSchema, stepCountIs, streamText, tool, type Telemetry } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';

const usage = { inputTokens: { total: 10, noCache: 8, cacheRead: 2, cacheWrite: 0 }, outputTokens: { total: 5, text: 5, reasoning: 0 } };

export async function runAiSdkScenario(integration: Telemetry): Promise<string[]> {
  let step = 0;
  const model = new MockLanguageModelV4({
    modelId: 'mock-model',
    doGenerate: async () =>
      step++ === 0
        ? { content: [{ type: 'tool-call', toolCallId: 'call-1', toolName: 'weather', input: '{"city":"Paris"}' }], finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage, warnings: [] }
        : { content: [{ type: 'text', text: 'Sunny in Paris' }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] },
    doStream: async () => ({
      stream: new ReadableStream({
        start(c) {
          c.enqueue({ type: 'stream-start', warnings: [] });
          c.enqueue({ type: 'response-metadata', id: 'r-1', modelId: 'mock-model-stream', timestamp: new Date(0) });
          c.enqueue({ type: 'text-start', id: 't' });
          for (const d of ['Hello', ' from', ' the', ' stream']) c.enqueue({ type: 'text-delta', id: 't', delta: d });
          c.enqueue({ type: 'text-end', id: 't' });
          c.enqueue({ type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage: { inputTokens: { total: 7, noCache: 7, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 4, text: 4, reasoning: 0 } } });
          c.close();
        },
      }),
    }),
  });
  const tools = {
    weather: tool({
      description: 'The weather in a city',
      inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
      execute: async ({ city }) => ({ city, sky: 'sunny' }),
    }),
  };
  const telemetry = { functionId: 'weather-agent', integrations: [integration] };
  const first = await generateText({ model, prompt: 'Weather in Paris?', tools, stopWhen: stepCountIs(3), telemetry });
  const streamed = streamText({ model, prompt: 'Say hello', telemetry });
  let text = '';
  for await (const d of streamed.textStream) text += d;
  await streamed.consumeStream?.();
  return [first.text, text];
}

/** Observations the scenario makes (name per line, sorted). */
export const AI_SDK_NAMES = [
  'chat mock-model', 'chat mock-model', 'chat mock-model', 'execute_tool weather', 'invoke_agent mock-model', 'invoke_agent mock-model', 'step 1', 'step 1', 'step 2',
];

interface Row {
  id: string;
  parentObservationId: string | null;
  name: string;
  type: string;
  model: string | null;
  usageDetails: Record<string, number> | null;
  startTime: number;
}

/** Names, types, parents (by path of names), model and usage: the view both integrations must agree on. */
export function shape(rows: Row[]): string[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const path = (r: Row): string => {
    const parent = r.parentObservationId === null ? undefined : byId.get(r.parentObservationId);
    return parent ? `${path(parent)} > ${r.name}` : r.parentObservationId === null ? r.name : `?${r.parentObservationId} > ${r.name}`;
  };
  return rows.map((r) => `${path(r)} | ${r.type} | ${r.model} | ${JSON.stringify(r.usageDetails)}`).sort();
}

/**
 * The one deliberate difference: Langfuse's integration puts the whole call's model and summed usage on the
 * `invoke_agent` span too; Outbox's agent observations, like @langfuse/tracing's, carry no model or usage (a type
 * that is not generation-like), so Langfuse does not count the call's tokens twice in the trace's totals.
 */
export const withoutAgentModel = (line: string): string => line.replace(/^(invoke_agent [^|]*\| agent \| )[^|]*\| .*$/, '$1null | null');

// observeOpenAI against @langfuse/openai: the real `openai` package talking to a local OpenAI-compatible server
// (demo/llm/server.mjs on 127.0.0.1 — the one fake, standing in for api.openai.com). The same calls run three times:
// unwrapped, through @langfuse/openai + LangfuseSpanProcessor, and through Outbox's observeOpenAI; the app must get
// byte-identical results and chunks, and both collectors (Langfuse's OTLP conversion) must store the same rows.
import { LangfuseSpanProcessor } from '@langfuse/otel';
import { observeOpenAI as langfuseObserveOpenAI } from '@langfuse/openai';
import { setLangfuseTracerProvider } from '@langfuse/tracing';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type Collector, type StoredObservation } from '../../demo/collector/server.mjs';
import { startLlmServer, type LlmServer } from '../../demo/llm/server.mjs';
import { observeOpenAI } from '../../src/integrations/openai';
import { createOutbox, type Outbox } from '../../src/node';
import { providerWith } from '../otel/helpers';

let llm: LlmServer;
let reference: Collector;
let ours: Collector;
const keys = { publicKey: 'pk-lf-openai', secretKey: 'sk-lf-openai' };
const clients: Outbox[] = [];

beforeAll(async () => {
  [llm, reference, ours] = await Promise.all([startLlmServer(), startCollector({ langfuse: 'v4' }), startCollector({ langfuse: 'v4' })]);
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.shutdown();
});
afterAll(async () => {
  await Promise.all([llm?.close(), reference?.close(), ours?.close()]);
});

const newOpenAI = () => new OpenAI({ apiKey: 'sk-test', baseURL: llm.baseURL, maxRetries: 0 });
function outbox(): Outbox {
  const c = createOutbox({ ...keys, baseUrl: ours.url, flushInterval: 3600 });
  clients.push(c);
  return c;
}

const tools = [{ type: 'function' as const, function: { name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];

/** The calls, each returning what the app saw (JSON text): results, every chunk, or the error. */
async function calls(client: OpenAI): Promise<string[]> {
  const seen: string[] = [];
  const record = (v: unknown) => seen.push(JSON.stringify(v));
  record(await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello there' }], temperature: 0.2, max_tokens: 64 }));
  const chunks: unknown[] = [];
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Stream me' }], stream: true, stream_options: { include_usage: true } });
  for await (const c of stream) chunks.push(c);
  record(chunks);
  record(await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools, tool_choice: 'auto' }));
  const toolChunks: unknown[] = [];
  for await (const c of await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Weather again?' }], tools, stream: true })) toolChunks.push(c);
  record(toolChunks);
  record(await client.responses.create({ model: 'gpt-4.1', input: 'Summarise Outbox', temperature: 0.5 }));
  const events: unknown[] = [];
  for await (const e of await client.responses.create({ model: 'gpt-4.1', input: 'Stream a summary', stream: true })) events.push(e);
  record(events);
  try {
    await client.chat.completions.create({ model: 'missing-model', messages: [{ role: 'user', content: 'x' }] });
    record('no error');
  } catch (error) {
    record({ error: String(error), status: (error as { status?: number }).status });
  }
  return seen;
}

const NAMES = ['OpenAI.chat', 'OpenAI.chat', 'OpenAI.chat', 'OpenAI.chat', 'OpenAI.responses', 'OpenAI.responses', 'OpenAI.chat'];

/** The rows as Langfuse shows them, in call order (by start time), times as "present or not". */
function rows(observations: StoredObservation[]) {
  return [...observations]
    .sort((a, b) => a.startTime - b.startTime)
    .map((o) => ({
      name: o.name,
      type: o.type,
      parent: o.parentObservationId,
      input: o.input,
      output: o.output,
      metadata: o.metadata,
      level: o.level,
      statusMessage: o.statusMessage,
      model: o.model,
      modelParameters: o.modelParameters,
      usageDetails: o.usageDetails,
      costDetails: o.costDetails,
      completionStartTime: o.completionStartTime === null ? null : o.completionStartTime >= o.startTime && o.completionStartTime <= o.endTime,
      promptName: o.promptName,
      promptVersion: o.promptVersion,
      trace: o.trace,
      environment: o.environment,
    }));
}

describe('observeOpenAI stores what @langfuse/openai stores', () => {
  it('chat and responses, streamed and not, a tool call, an error: same rows, same app-visible results', async () => {
    const options = { traceName: 'support-chat', userId: 'user-9', sessionId: 'session-4', tags: ['llm', 'beta'], generationMetadata: { feature: 'chat', attempt: 1 }, langfusePrompt: { name: 'support', version: 3, isFallback: false } };
    const plain = await calls(newOpenAI());

    const lfProvider = providerWith(new LangfuseSpanProcessor({ ...keys, baseUrl: reference.url }));
    setLangfuseTracerProvider(lfProvider);
    const viaLangfuse = await calls(langfuseObserveOpenAI(newOpenAI(), options));
    await lfProvider.forceFlush();

    const ob = outbox();
    const viaOutbox = await calls(observeOpenAI(newOpenAI(), { outbox: ob, ...options }));
    await ob.flush();

    // What the app received: byte-identical with and without either wrapper.
    expect(viaOutbox).toEqual(plain);
    expect(viaLangfuse).toEqual(plain);
    expect(plain).toHaveLength(7);
    expect(plain[6]).toContain('404');

    await reference.waitFor((c) => c.observations().length >= NAMES.length);
    await ours.waitFor((c) => c.observations().length >= NAMES.length);
    const want = rows(reference.observations());
    const got = rows(ours.observations());
    expect(want.map((r) => r.name)).toEqual(NAMES);
    for (const [i, row] of want.entries()) expect({ i, ...got[i] }).toEqual({ i, ...row });
    expect(ours.stats().spanDuplicates).toBe(0);

    // The facts themselves, so two equally wrong wrappers cannot pass.
    expect(got[0]).toMatchObject({
      type: 'generation', model: 'gpt-4o-mini-2026-01-01', parent: null,
      usageDetails: { input: 15, output: 3, total: 21, input_cached_tokens: 2, output_reasoning_tokens: 1 },
      modelParameters: { temperature: 0.2, max_tokens: 64, response_format: '' },
      trace: { name: 'support-chat', userId: 'user-9', sessionId: 'session-4', tags: ['llm', 'beta'] },
      metadata: { feature: 'chat', attempt: '1' },
      promptName: 'support',
      promptVersion: 3,
    });
    expect(got[1]).toMatchObject({ completionStartTime: true, output: 'You said: Stream me' });
    expect(JSON.parse(got[3]!.output!)).toEqual({ tool_calls: [{ function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] });
    expect(got[4]!.usageDetails).toMatchObject({ input_cached_tokens: 3 });
    expect(got[5]).toMatchObject({ completionStartTime: true, model: 'gpt-4.1-2026-01-01' });
    expect(got[6]).toMatchObject({ level: 'ERROR', costDetails: { input: 0, output: 0, total: 0 } });
    expect(got[6]!.statusMessage).toContain('404');
    await lfProvider.shutdown();
  });
});

describe('observeOpenAI streams', () => {
  it('break, abort signal, controller.abort(), an error mid-stream: each call ends exactly one generation; tee and toReadableStream still work', async () => {
    ours.reset();
    const ob = outbox();
    const client = observeOpenAI(newOpenAI(), { outbox: ob, generationName: 'stream-case' });
    const slow = { model: 'slow-model', messages: [{ role: 'user' as const, content: 'count' }], stream: true as const };

    // break after three chunks
    let n = 0;
    for await (const _ of await client.chat.completions.create(slow)) if (++n === 3) break;
    // the caller's AbortSignal
    const ac = new AbortController();
    const viaSignal: unknown[] = [];
    try {
      for await (const c of await client.chat.completions.create(slow, { signal: ac.signal })) {
        viaSignal.push(c);
        if (viaSignal.length === 3) ac.abort();
      }
    } catch (error) {
      viaSignal.push(String(error));
    }
    // the stream's own controller
    const own = await client.chat.completions.create(slow);
    expect(own.controller).toBeInstanceOf(AbortController);
    let m = 0;
    for await (const _ of own) if (++m === 2) own.controller.abort();
    // an error event in the middle of the stream
    let streamError = '';
    try {
      for await (const _ of await client.chat.completions.create({ model: 'broken-stream', messages: [{ role: 'user', content: 'a b c d e' }], stream: true })) void _;
    } catch (error) {
      streamError = String(error);
    }
    expect(streamError).toContain('the upstream model crashed');

    // tee and toReadableStream give what the unwrapped stream gives
    const plainParams = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'tee me' }], stream: true as const };
    const plainChunks: unknown[] = [];
    for await (const c of await newOpenAI().chat.completions.create(plainParams)) plainChunks.push(c);
    const [left, right] = (await client.chat.completions.create(plainParams)).tee();
    const [a, b] = await Promise.all([left, right].map(async (s) => { const out: unknown[] = []; for await (const c of s) out.push(c); return out; }));
    expect(a).toEqual(plainChunks);
    expect(b).toEqual(plainChunks);
    const text = await new Response((await client.chat.completions.create(plainParams)).toReadableStream()).text();
    expect(text.trim().split('\n').map((l) => JSON.parse(l))).toEqual(plainChunks);

    await ob.flush();
    await ours.waitFor((c) => c.observations().length >= 6);
    const stored = [...ours.observations()].sort((x, y) => x.startTime - y.startTime);
    expect(stored).toHaveLength(6);
    expect(Object.values(ours.spanArrivals()).every((count) => count === 1)).toBe(true);
    const [broke, signalled, controlled, errored, teed, readable] = stored;
    expect(broke).toMatchObject({ level: 'WARNING', statusMessage: 'stream closed by the app before its end', output: ' w0 w1' }) // the first chunk is the role;
    expect(broke!.completionStartTime).not.toBeNull();
    expect(signalled).toMatchObject({ level: 'WARNING', model: 'slow-model' });
    expect(signalled!.statusMessage).toMatch(/^aborted/);
    expect(controlled).toMatchObject({ level: 'WARNING' });
    expect(controlled!.statusMessage).toMatch(/^aborted/);
    expect(errored).toMatchObject({ level: 'ERROR', output: 'You said:' }); // what arrived before the error
    expect(errored!.statusMessage).toContain('the upstream model crashed');
    for (const o of [teed, readable]) expect(o).toMatchObject({ level: 'DEFAULT', output: 'You said: tee me' });
    expect(ob.stats()).toMatchObject({ queued: 0 });
  });
});

describe('observeOpenAI parents', () => {
  it('a call inside startActiveObservation is its child; parentSpanContext continues a remote trace; an observation as `outbox` nests', async () => {
    ours.reset();
    const ob = outbox();
    const client = observeOpenAI(newOpenAI(), { outbox: ob });
    const ask = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }] };
    const turn = await ob.startActiveObservation('turn', async (t) => {
      await client.chat.completions.create(ask);
      return t;
    });
    const remote = { traceId: '0123456789abcdef0123456789abcdef', spanId: '0123456789abcdef' };
    await observeOpenAI(newOpenAI(), { outbox: ob, parentSpanContext: remote, generationName: 'remote-child' }).chat.completions.create(ask);
    const agent = ob.startObservation('agent', {}, { asType: 'agent' });
    await observeOpenAI(newOpenAI(), { outbox: agent, generationName: 'agent-child' }).chat.completions.create(ask);
    agent.end();
    await ob.flush();
    await ours.waitFor((c) => c.observations().length >= 5);
    const by = (name: string) => ours.observations().find((o) => o.name === name)!;
    expect(by('OpenAI.chat')).toMatchObject({ parentObservationId: turn.id, traceId: turn.traceId });
    expect(by('remote-child')).toMatchObject({ parentObservationId: remote.spanId, traceId: remote.traceId });
    expect(by('agent-child')).toMatchObject({ parentObservationId: agent.id, traceId: agent.traceId });
  });
});

describe('an OpenAI-compatible client of the same shape (WebLLM engine)', () => {
  // A stand-in with the shape of WebLLM's MLCEngine (`engine.chat.completions.create`, an async generator of chunks
  // when streaming, the last chunk's usage with WebLLM's `extra` timings), as its openai_api_protocols types declare;
  // WebLLM itself needs WebGPU and model weights, which cannot run here.
  class MLCEngine {
    chat = {
      completions: {
        create: async (request: { stream?: boolean; messages: { content: string }[] }) => {
          const usage = { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12, extra: { e2e_latency_s: 0.42, prefill_tokens_per_s: 210.5, decode_tokens_per_s: 31.2, time_to_first_token_s: 0.08, time_per_output_token_s: 0.03 } };
          const base = { id: 'chatcmpl-webllm', created: 1, model: 'Llama-3.2-1B-Instruct-q4f16_1-MLC', object: 'chat.completion.chunk' };
          if (!request.stream) {
            return { ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi there!' }, finish_reason: 'stop', logprobs: null }], usage };
          }
          return (async function* () {
            for (const content of ['Hi', ' there', '!']) {
              await new Promise((r) => setTimeout(r, 2));
              yield { ...base, choices: [{ index: 0, delta: { content }, finish_reason: null, logprobs: null }] };
            }
            yield { ...base, choices: [], usage };
          })();
        },
      },
    };
  }

  it('records the generation with usage and WebLLM extra timings; the stream gives the same chunks', async () => {
    ours.reset();
    const ob = outbox();
    const engine = observeOpenAI(new MLCEngine(), { outbox: ob });
    const plainChunks: unknown[] = [];
    for await (const c of (await new MLCEngine().chat.completions.create({ stream: true, messages: [{ content: 'hi' }] })) as AsyncIterable<unknown>) plainChunks.push(c);
    const chunks: unknown[] = [];
    for await (const c of (await engine.chat.completions.create({ stream: true, messages: [{ content: 'hi' }] })) as AsyncIterable<unknown>) chunks.push(c);
    expect(chunks).toEqual(plainChunks);
    const whole = await engine.chat.completions.create({ messages: [{ content: 'hi' }] });
    expect(whole).toMatchObject({ choices: [{ message: { content: 'Hi there!' } }] });
    await ob.flush();
    await ours.waitFor((c) => c.observations().length >= 2);
    const [streamed, nonStreamed] = [...ours.observations()].sort((a, b) => a.startTime - b.startTime);
    for (const g of [streamed!, nonStreamed!]) {
      expect(g).toMatchObject({ name: 'MLCEngine.chat', type: 'generation', usageDetails: { input: 9, output: 3, total: 12 } });
      expect(JSON.parse(g.metadata.usage_extra as string)).toMatchObject({ time_to_first_token_s: 0.08, decode_tokens_per_s: 31.2 });
    }
    expect(streamed).toMatchObject({ output: 'Hi there!' });
    expect(streamed!.completionStartTime).not.toBeNull();
    expect(nonStreamed!.model).toBe('Llama-3.2-1B-Instruct-q4f16_1-MLC');
  });
});

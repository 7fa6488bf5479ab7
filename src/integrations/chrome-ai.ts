/**
 * Chrome's built-in AI (`outbox/chrome-ai`): `observeLanguageModel(session, { outbox })` records each `prompt()` and
 * `promptStreaming()` call of a Prompt API session (`LanguageModel.create()`) as one generation: usage from the
 * session's context usage before and after the call, time to first chunk, the call's parameters and the provider
 * (the API exposes no model name). On-device prompts are private by design: input and output are recorded only with
 * `captureContent: true`.
 */
import type { ObservationAttributes } from '../trace/types';
import { errorMessage, flatMetadata, safely, startOptions, tokenCounts, type ObservationParent, type ParentSpanContext } from './shared';

export type { ObservationParent, ParentSpanContext } from './shared';

export interface ObserveLanguageModelConfig {
  /** The Outbox client, or an open observation to nest the calls under. */
  outbox: ObservationParent;
  /**
   * Record the prompt and the answer as the generation's input and output. Off by default: on-device calls keep the
   * user's text on the device, and a trace would carry it to a server.
   * @default false
   */
  captureContent?: boolean;
  /** @default 'LanguageModel.prompt' / 'LanguageModel.promptStreaming' */
  generationName?: string;
  traceName?: string;
  sessionId?: string;
  userId?: string;
  tags?: string[];
  generationMetadata?: Record<string, unknown>;
  parentSpanContext?: ParentSpanContext;
}

/** The parts of a Prompt API session this reads (current names and the older ones). */
interface SessionLike {
  prompt(input: unknown, options?: { signal?: AbortSignal }): Promise<string>;
  promptStreaming(input: unknown, options?: { signal?: AbortSignal }): ReadableStream<string>;
  contextUsage?: number;
  contextWindow?: number;
  inputUsage?: number;
  inputQuota?: number;
  temperature?: number;
  topK?: number;
  measureContextUsage?(input: unknown, options?: unknown): Promise<number>;
  measureInputUsage?(input: unknown, options?: unknown): Promise<number>;
  clone?(options?: unknown): Promise<unknown>;
}

const PROVIDER = 'browser built-in (Prompt API)';

function read(session: SessionLike, key: 'contextUsage' | 'inputUsage' | 'contextWindow' | 'inputQuota' | 'temperature' | 'topK'): number | undefined {
  try {
    const v = session[key];
    return typeof v === 'number' && !Number.isNaN(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
const usageOf = (s: SessionLike) => read(s, 'contextUsage') ?? read(s, 'inputUsage');
const windowOf = (s: SessionLike) => read(s, 'contextWindow') ?? read(s, 'inputQuota');

/** The browser's brand and version, where the page can read them (User-Agent Client Hints). */
function browser(): string | undefined {
  try {
    const brands = (navigator as { userAgentData?: { brands?: { brand: string; version: string }[] } }).userAgentData?.brands;
    const real = brands?.find((b) => !/not.?a.?brand/i.test(b.brand) && b.brand !== 'Chromium') ?? brands?.find((b) => b.brand === 'Chromium');
    return real ? `${real.brand} ${real.version}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Wraps a Prompt API session: `prompt()` and `promptStreaming()` are recorded, `clone()` returns a wrapped clone,
 * everything else is the session's own. The values the app gets are the session's (the streamed chunks are the
 * same strings, in the same order; cancelling the returned stream cancels the session's).
 */
export function observeLanguageModel<T extends object>(session: T, config: ObserveLanguageModelConfig): T {
  if (!config || typeof config !== 'object' || !config.outbox || typeof config.outbox.startObservation !== 'function') {
    throw new TypeError('observeLanguageModel: config.outbox must be an Outbox client or an observation (it has no startObservation)');
  }
  if (!session || typeof session !== 'object') throw new TypeError('observeLanguageModel: session must be a LanguageModel session');
  const s = session as unknown as SessionLike;
  const cache = new Map<PropertyKey, { from: unknown; to: unknown }>();
  return new Proxy(session, {
    get(obj, key) {
      const value = Reflect.get(obj, key);
      if (typeof value !== 'function' || key === 'constructor') return value;
      const hit = cache.get(key);
      if (hit && hit.from === value) return hit.to;
      const fn = value as (...a: unknown[]) => unknown;
      let to: unknown;
      if (key === 'prompt') to = (input: unknown, options?: { signal?: AbortSignal }) => prompt(s, fn, input, options, config);
      else if (key === 'promptStreaming') to = (input: unknown, options?: { signal?: AbortSignal }) => promptStreaming(s, fn, input, options, config);
      else if (key === 'clone') {
        to = (...a: unknown[]) =>
          (fn.apply(obj, a) as Promise<object>).then((copy) => (copy && typeof copy === 'object' ? observeLanguageModel(copy, config) : copy));
      } else to = fn.bind(obj);
      cache.set(key, { from: value, to });
      return to;
    },
  });
}

/** One call's record: started before the call, ended once. */
class Call {
  readonly #session: SessionLike;
  readonly #config: ObserveLanguageModelConfig;
  readonly #before: number | undefined;
  #inputTokens: number | undefined;
  #gen: ReturnType<ObservationParent['startObservation']> | undefined;
  #ended = false;
  firstChunk: Date | undefined;

  constructor(session: SessionLike, method: string, input: unknown, config: ObserveLanguageModelConfig) {
    this.#session = session;
    this.#config = config;
    this.#before = usageOf(session);
    safely(() => {
      const window = windowOf(session);
      const modelParameters: Record<string, number | string> = {};
      const temperature = read(session, 'temperature');
      const topK = read(session, 'topK');
      if (temperature !== undefined) modelParameters.temperature = temperature;
      if (topK !== undefined) modelParameters.topK = topK;
      if (window !== undefined) modelParameters.contextWindow = Number.isFinite(window) ? window : 'Infinity';
      this.#gen = config.outbox.startObservation(
        config.generationName ?? `LanguageModel.${method}`,
        {
          input: config.captureContent ? input : undefined,
          modelParameters,
          metadata: flatMetadata({ ...config.generationMetadata, provider: PROVIDER, browser: browser(), contentCaptured: config.captureContent === true }),
        },
        startOptions('generation', config.parentSpanContext, { name: config.traceName, userId: config.userId, sessionId: config.sessionId, tags: config.tags }),
      );
    });
    // The input's own size, where the session can measure it (a tokenizer pass, not a model run): splits usage in
    // input and output. Measured alongside the call, never awaited by it.
    safely(() => {
      const measure = session.measureContextUsage ?? session.measureInputUsage;
      if (typeof measure !== 'function') return;
      measure.call(session, input).then(
        (n) => {
          if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) this.#inputTokens = n;
        },
        () => undefined,
      );
    });
  }

  end(attributes: ObservationAttributes, output?: string): void {
    if (this.#ended) return;
    this.#ended = true;
    safely(() => {
      const after = usageOf(this.#session);
      const used = this.#before !== undefined && after !== undefined && after >= this.#before ? after - this.#before : undefined;
      const input = this.#inputTokens !== undefined && used !== undefined && this.#inputTokens <= used ? this.#inputTokens : undefined;
      const usage = used === undefined ? undefined : input === undefined ? { total: used } : { input, output: used - input, total: used };
      this.#gen?.update({
        ...attributes,
        output: this.#config.captureContent ? output : undefined,
        usageDetails: tokenCounts(usage),
        completionStartTime: this.firstChunk,
        metadata: flatMetadata({ contextUsage: after, contextUsageBefore: this.#before }),
      });
      this.#gen?.end();
    });
  }
}

function settleError(call: Call, error: unknown, signal: AbortSignal | undefined, output?: string): void {
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'AbortError' || signal?.aborted) call.end({ level: 'WARNING', statusMessage: `aborted: ${errorMessage(error)}` }, output);
  else call.end({ level: 'ERROR', statusMessage: errorMessage(error) }, output);
}

function prompt(session: SessionLike, fn: (...a: unknown[]) => unknown, input: unknown, options: { signal?: AbortSignal } | undefined, config: ObserveLanguageModelConfig): Promise<string> {
  const call = new Call(session, 'prompt', input, config);
  const args = options === undefined ? [input] : [input, options];
  let result: Promise<string>;
  try {
    result = fn.apply(session, args) as Promise<string>;
  } catch (error) {
    settleError(call, error, options?.signal);
    throw error;
  }
  return Promise.resolve(result).then(
    (text) => {
      call.end({}, text);
      return text;
    },
    (error: unknown) => {
      settleError(call, error, options?.signal);
      throw error;
    },
  );
}

function promptStreaming(
  session: SessionLike,
  fn: (...a: unknown[]) => unknown,
  input: unknown,
  options: { signal?: AbortSignal } | undefined,
  config: ObserveLanguageModelConfig,
): ReadableStream<string> {
  const call = new Call(session, 'promptStreaming', input, config);
  const args = options === undefined ? [input] : [input, options];
  let source: ReadableStream<string>;
  try {
    source = fn.apply(session, args) as ReadableStream<string>;
  } catch (error) {
    settleError(call, error, options?.signal);
    throw error;
  }
  let reader: ReadableStreamDefaultReader<string> | undefined;
  let text = '';
  // A stream of its own that reads the session's one chunk per pull (no buffering ahead: the same pace, and a
  // cancel reaches the session's stream at once).
  return new ReadableStream<string>(
    {
      async pull(controller) {
        reader ??= source.getReader();
        let step: ReadableStreamReadResult<string>;
        try {
          step = await reader.read();
        } catch (error) {
          settleError(call, error, options?.signal, text);
          controller.error(error);
          return;
        }
        if (step.done) {
          call.end({}, text);
          controller.close();
          return;
        }
        call.firstChunk ??= new Date();
        if (typeof step.value === 'string') text += step.value;
        controller.enqueue(step.value);
      },
      cancel(reason) {
        call.end({ level: 'WARNING', statusMessage: `cancelled by the app: ${errorMessage(reason)}` }, text);
        return (reader ?? source).cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

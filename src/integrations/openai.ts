import type { Observation, ObservationAttributes } from '../trace/types';
import {
  parseOutput,
  parseRequest,
  parseResponseModelData,
  parseResponseUsage,
  StreamAccumulator,
  usageExtra,
} from './openai-parse';
import { errorMessage, flatMetadata, safely, startOptions, tokenCounts, type ObservationParent, type ParentSpanContext } from './shared';

/** `@langfuse/openai`'s options, plus where the generations go. */
export interface ObserveOpenAIConfig {
  /** The Outbox client, or an open observation to nest every call under. */
  outbox: ObservationParent;
  /** @default `${client.constructor.name}.${resource}`, e.g. `OpenAI.chat`, `OpenAI.responses` */
  generationName?: string;
  traceName?: string;
  sessionId?: string;
  userId?: string;
  tags?: string[];
  /** Observation metadata of every generation (each value a string, else JSON, as Langfuse sends it). */
  generationMetadata?: Record<string, unknown>;
  /** Links a Langfuse prompt version (ignored when `isFallback`). */
  langfusePrompt?: { name: string; version: number; isFallback?: boolean };
  /** Continue a trace started elsewhere: the parent span's `traceId` and `spanId`. */
  parentSpanContext?: ParentSpanContext;
}

/** The resources whose `create` is traced; every other property passes through untouched. */
const TRACED: Record<string, string[]> = { chat: ['completions'], responses: [], completions: [] };

type AnyFn = (...args: unknown[]) => unknown;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isAsyncIterable = (v: unknown): v is AsyncIterable<unknown> =>
  isObj(v) && typeof (v as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';

/**
 * Wraps an OpenAI client (the `openai` package, or any client of the same shape such as WebLLM's engine) so that
 * every `chat.completions.create`, `responses.create` and `completions.create` call is recorded as one Outbox
 * generation, by `@langfuse/openai`'s rules: model, parameters, input, output, usage, errors, and for streams the
 * completion start time at the first chunk. The app gets the same values back: the same response objects, and for
 * streams the same stream object (its `controller`, `tee()`, `toReadableStream()` keep working). Never throws on
 * its own; a failed call's error reaches the app unchanged.
 */
export function observeOpenAI<T extends object>(client: T, config: ObserveOpenAIConfig): T {
  if (!isObj(config) || !isObj(config.outbox) || typeof config.outbox.startObservation !== 'function') {
    throw new TypeError('observeOpenAI: config.outbox must be an Outbox client or an observation (it has no startObservation)');
  }
  if (!isObj(client)) throw new TypeError('observeOpenAI: client must be an OpenAI client object');
  // Langfuse names calls by the client's class (`OpenAI.chat`); a minifier renames classes (`Xt.chat` in a page
  // bundle), so a short name that is not a word falls back to 'OpenAI'.
  let className = (client as { constructor?: { name?: string } }).constructor?.name;
  if (typeof className !== 'string' || (className.length <= 3 && !/^[A-Z][a-z]+$/.test(className))) className = 'OpenAI';
  return proxy(client, [], (resource) => config.generationName ?? `${className}.${resource}`, config);
}

function proxy<T extends object>(target: T, path: string[], nameOf: (resource: string) => string, config: ObserveOpenAIConfig): T {
  const cache = new Map<PropertyKey, { from: unknown; to: unknown }>();
  return new Proxy(target, {
    get(obj, key) {
      const value = Reflect.get(obj, key);
      const hit = cache.get(key);
      if (hit && hit.from === value) return hit.to;
      let to: unknown = value;
      if (typeof key === 'string' && key !== 'constructor') {
        const resource = path[0];
        // Inside a traced resource, the next step of its path (chat → completions), or the resource itself at the top.
        const onPath = resource === undefined ? Object.hasOwn(TRACED, key) : TRACED[resource]![path.length - 1] === key;
        if (typeof value === 'function') {
          // `create` at the end of a traced path is wrapped; other methods are bound to the real object (private fields).
          const traced = key === 'create' && resource !== undefined && TRACED[resource]!.length === path.length - 1;
          to = traced ? tracedCreate(value as AnyFn, obj, nameOf(resource), config) : (value as AnyFn).bind(obj);
        } else if (onPath && isObj(value)) {
          to = proxy(value, [...path, key], nameOf, config);
        }
      }
      cache.set(key, { from: value, to });
      return to;
    },
  });
}

/** One generation's recorder: ends exactly once. */
interface Recorder {
  gen: Observation | undefined;
  ended: boolean;
}

function finish(rec: Recorder, attributes: ObservationAttributes): void {
  if (rec.ended) return;
  rec.ended = true;
  safely(() => {
    rec.gen?.update(attributes);
    rec.gen?.end();
  });
}

function fail(rec: Recorder, error: unknown): void {
  finish(rec, { level: 'ERROR', statusMessage: errorMessage(error), costDetails: { input: 0, output: 0, total: 0 } });
}

function tracedCreate(create: AnyFn, self: object, name: string, config: ObserveOpenAIConfig): AnyFn {
  return function traced(...args: unknown[]): unknown {
    const rec: Recorder = { gen: undefined, ended: false };
    safely(() => {
      const { model, input, modelParameters } = parseRequest(isObj(args[0]) ? args[0] : {});
      const prompt = config.langfusePrompt;
      rec.gen = config.outbox.startObservation(
        name,
        {
          model: typeof model === 'string' ? model : undefined,
          input,
          modelParameters: { ...modelParameters, response_format: '' },
          prompt: prompt && !prompt.isFallback ? { name: prompt.name, version: prompt.version } : undefined,
          metadata: flatMetadata({ ...config.generationMetadata, response_format: modelParameters.response_format }),
        },
        startOptions('generation', config.parentSpanContext, {
          name: config.traceName,
          userId: config.userId,
          sessionId: config.sessionId,
          tags: config.tags,
        }),
      );
    });
    let result: unknown;
    try {
      result = create.apply(self, args);
    } catch (error) {
      fail(rec, error);
      throw error;
    }
    return observeResult(result, rec);
  };
}

/** What a finished non-streamed response records. */
function settle(data: unknown, rec: Recorder): unknown {
  if (isAsyncIterable(data)) return observeStream(data, rec);
  safely(() => {
    const { model, modelParameters, metadata } = parseResponseModelData(data);
    const extra = usageExtra(data);
    finish(rec, {
      output: parseOutput(data),
      usageDetails: tokenCounts(parseResponseUsage(data)),
      model: typeof model === 'string' ? model : undefined,
      modelParameters,
      metadata: flatMetadata(extra === undefined ? metadata : { ...metadata, usage_extra: extra }),
    });
  });
  return data;
}

function observeResult(result: unknown, rec: Recorder): unknown {
  if (isAsyncIterable(result)) return observeStream(result, rec);
  const promise = result as { then?: unknown; _thenUnwrap?: unknown; asResponse?: unknown };
  if (!isObj(promise) || typeof promise.then !== 'function') {
    finish(rec, { output: result });
    return result;
  }
  if (typeof promise._thenUnwrap === 'function' && typeof promise.asResponse === 'function') {
    // The `openai` package's APIPromise: derive another APIPromise (so `.withResponse()` keeps working) whose value
    // is recorded when the app reads it. A failed request is seen on the raw response, which does not read the body.
    const derived = (promise._thenUnwrap as (t: (data: unknown) => unknown) => { then: AnyFn })((data) => settle(data, rec));
    (promise.asResponse as () => Promise<unknown>)().then(undefined, (error: unknown) => fail(rec, error));
    const then = derived.then;
    derived.then = function (this: unknown, onFulfilled?: unknown, onRejected?: unknown) {
      return then.call(this, onFulfilled, (error: unknown) => {
        fail(rec, error);
        if (typeof onRejected === 'function') return onRejected(error);
        throw error;
      });
    };
    return derived;
  }
  return (promise.then as AnyFn).call(
    promise,
    (data: unknown) => settle(data, rec),
    (error: unknown) => {
      fail(rec, error);
      throw error;
    },
  );
}

/**
 * Observes a stream as the app reads it. The `openai` package's Stream keeps its identity: only its `iterator`
 * (what iteration, `tee()` and `toReadableStream()` all read from) is wrapped. Any other async iterable is handed
 * back as an iterator over the same values.
 */
function observeStream(stream: AsyncIterable<unknown>, rec: Recorder): AsyncIterable<unknown> {
  const s = stream as { iterator?: unknown; controller?: { signal?: AbortSignal } };
  const signal = () => s.controller?.signal;
  if (typeof s.iterator === 'function') {
    const original = s.iterator as () => AsyncIterator<unknown>;
    let observed = false;
    s.iterator = function (this: unknown): AsyncIterator<unknown> {
      const it = original.call(this);
      if (observed) return it;
      observed = true;
      return observeIterator(it, rec, signal);
    };
    return stream;
  }
  let it: AsyncIterator<unknown> | undefined;
  const inner = () => (it ??= observeIterator(stream[Symbol.asyncIterator](), rec, signal));
  const wrapper: AsyncIterableIterator<unknown> = {
    next: (...a: [] | [unknown]) => inner().next(...a),
    return: (value?: unknown) => inner().return!(value),
    throw: (error?: unknown) => inner().throw!(error),
    [Symbol.asyncIterator]() {
      return wrapper;
    },
  };
  return wrapper;
}

function observeIterator(it: AsyncIterator<unknown>, rec: Recorder, signal: () => AbortSignal | undefined): AsyncIterator<unknown> {
  const acc = new StreamAccumulator();
  let completionStartTime: Date | undefined;
  const close = (level?: 'WARNING' | 'ERROR', statusMessage?: string) => {
    safely(() => {
      const extra = acc.extra;
      finish(rec, {
        output: acc.finalOutput(),
        completionStartTime,
        usageDetails: tokenCounts(acc.finalUsage()),
        model: typeof acc.model === 'string' ? acc.model : undefined,
        modelParameters: acc.modelParameters,
        metadata: flatMetadata(extra === undefined ? acc.metadata : { ...acc.metadata, usage_extra: extra }),
        level,
        statusMessage,
      });
    });
  };
  // An abort (the app's signal, the stream's controller) ends the generation as a WARNING with what arrived; any
  // other error as an ERROR, also with what arrived (the SDK aborts its own controller before rethrowing).
  const onError = (error: unknown) => {
    const name = (error as { name?: unknown } | null)?.name;
    const aborted = name === 'AbortError' || name === 'APIUserAbortError' || (signal()?.aborted && error === signal()?.reason);
    if (aborted) close('WARNING', `aborted: ${errorMessage(error)}`);
    else close('ERROR', errorMessage(error));
  };
  return {
    next(...a: [] | [unknown]) {
      let step: Promise<IteratorResult<unknown>>;
      try {
        step = Promise.resolve(it.next(...a));
      } catch (error) {
        onError(error);
        throw error;
      }
      return step.then(
        (r) => {
          if (r.done) {
            if (signal()?.aborted) close('WARNING', `aborted: ${errorMessage(signal()?.reason)}`);
            else close();
          } else {
            completionStartTime ??= new Date();
            safely(() => acc.add(r.value));
          }
          return r;
        },
        (error: unknown) => {
          onError(error);
          throw error;
        },
      );
    },
    return(value?: unknown) {
      close('WARNING', 'stream closed by the app before its end');
      return typeof it.return === 'function' ? it.return(value) : Promise.resolve({ done: true as const, value });
    },
    throw(error?: unknown) {
      onError(error);
      return typeof it.throw === 'function' ? it.throw(error) : Promise.reject(error);
    },
  };
}

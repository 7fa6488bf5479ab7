/**
 * Node entry (`outbox` under the "node" condition): memory queue, fetch transport, options also read from
 * `process.env`. Touches no browser global. The active context of the tracing calls is AsyncLocalStorage.
 *
 * Besides each client's methods, Langfuse's tracing calls are module functions here, as `@langfuse/tracing` has
 * them: they use the default client — the one given to setDefaultOutbox(), else the first createOutbox() made in
 * this process, else one created from the environment (LANGFUSE_BASE_URL, keys…) at the first call that needs it.
 * Without any (no base URL in the environment), they record nothing and log it once, and callbacks still run.
 */
// @ts-ignore -- the declaration build (tsconfig.build.json) has no Node types; tsconfig.json checks this import
import { AsyncLocalStorage } from 'node:async_hooks';
// @ts-ignore -- as above
import { gzip as zlibGzip } from 'node:zlib';
import { assemble } from './create';
import { optionsFromEnv, type OutboxOptions } from './core/options';
import { contextStore, useAsyncLocalStorage } from './trace/context';
import { createTracing } from './trace/tracer';
import { createFetchTransport } from './transport/fetch';
import type { Outbox, TracingCalls } from './trace/types';

export type * from './public-types';
export { OutboxOptionsError } from './core/options';

let defaultOutbox: Outbox | undefined;
/** Set when no default could be made from the environment: a tracer that records nothing. */
let inert: TracingCalls | undefined;

/** Creates a client (the first one becomes the default). Throws OutboxOptionsError for invalid options (and only then). */
export function createOutbox(options: Partial<OutboxOptions> = {}): Outbox {
  useAsyncLocalStorage(AsyncLocalStorage);
  const env = (globalThis as { process?: { env?: Record<string, unknown> } }).process?.env;
  const outbox = assemble(options, {
    fromEnv: optionsFromEnv(env),
    platform: (o) => ({
      transport: createFetchTransport({ timeoutMs: o.requestTimeoutMs, compression: o.compression, gzip: nodeGzip }),
      // Span lines and sends in the client's own task, as in a page: an immediate, which runs once this turn's I/O
      // callbacks are done (a timer would run at the next turn's start, before the caller's awaited immediate).
      nextTask: (run) => void (globalThis as unknown as { setImmediate(run: () => void): unknown }).setImmediate(run),
    }),
  }).outbox;
  defaultOutbox ??= outbox;
  return outbox;
}

/**
 * Gzip with node:zlib: the compression runs on libuv's thread pool and the caller's thread only hands the text over
 * and collects the result, where CompressionStream also pumps it through web streams there (1.8–4.7 against
 * 4.4–11.6 ms of event-loop time per 400 KB body on this machine: a sequence of gzips, eventLoopUtilization).
 */
function nodeGzip(text: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    zlibGzip(text, (error: Error | null, zipped: Uint8Array) => (error ? reject(error) : resolve(new Uint8Array(zipped.buffer, zipped.byteOffset, zipped.byteLength))));
  });
}

/** Makes `outbox` the client of the module-level tracing calls (undefined: the next client created, or one from the environment). */
export function setDefaultOutbox(outbox: Outbox | undefined): void {
  defaultOutbox = outbox;
}

/** The client the module-level calls use now (creating it from the environment if none exists yet), or undefined. */
export function getDefaultOutbox(): Outbox | undefined {
  if (defaultOutbox === undefined && inert === undefined) {
    try {
      createOutbox();
    } catch (error) {
      console.warn(`outbox: the module-level tracing calls record nothing: no client was created and none can be made from the environment (${error instanceof Error ? error.message : String(error)})`);
      useAsyncLocalStorage(AsyncLocalStorage);
      inert = createTracing({ emit() {}, now: Date.now, fill: (b) => void crypto.getRandomValues(b), log() {}, warn() {} });
    }
  }
  return defaultOutbox;
}

const calls = (): TracingCalls => getDefaultOutbox() ?? inert!;

/** Langfuse's startObservation() on the default client. */
export const startObservation: TracingCalls['startObservation'] = (name, attributes, options) => calls().startObservation(name, attributes, options);
/** Langfuse's startActiveObservation() on the default client. */
export const startActiveObservation: TracingCalls['startActiveObservation'] = (name, fn, options) => calls().startActiveObservation(name, fn, options);
/** Langfuse's observe() on the default client (the client is looked up at each call of the wrapper). */
export const observe: TracingCalls['observe'] = ((fn: (...args: unknown[]) => unknown, options?: object) => {
  let wrapped: ((...args: unknown[]) => unknown) | undefined;
  let from: TracingCalls | undefined;
  return function (this: unknown, ...args: unknown[]) {
    const now = calls();
    if (from !== now) [from, wrapped] = [now, now.observe(fn, options)];
    return wrapped!.apply(this, args);
  };
}) as TracingCalls['observe'];
/** Langfuse's updateActiveObservation() (the active observation, whichever client it belongs to). */
export const updateActiveObservation: TracingCalls['updateActiveObservation'] = (attributes, options) => calls().updateActiveObservation(attributes, options);
/** Langfuse's propagateAttributes(). */
export const propagateAttributes: TracingCalls['propagateAttributes'] = (attributes, fn) => calls().propagateAttributes(attributes, fn);
/** The active observation's trace id, or undefined. */
export const getActiveTraceId = (): string | undefined => {
  useAsyncLocalStorage(AsyncLocalStorage);
  return contextStore().get()?.o?.s.traceId;
};
/** The active observation's span id, or undefined. */
export const getActiveSpanId = (): string | undefined => {
  useAsyncLocalStorage(AsyncLocalStorage);
  return contextStore().get()?.o?.s.id;
};
/** Langfuse's createTraceId(seed?): SHA-256 of the seed, first 32 hex digits; random without a seed. */
export const createTraceId: TracingCalls['createTraceId'] = (seed) => calls().createTraceId(seed);

/**
 * Cloudflare Workers entry (`outbox/worker`, and `outbox` under the "workerd"/"worker" conditions): memory queue,
 * fetch transport, no timer that outlives a request, every send handed to `waitUntil`, options also read from
 * the Worker's `env` (OUTBOX_* / LANGFUSE_*). A secret key is allowed here (Basic pk:sk): a Worker is a server.
 */
import * as z from 'zod/mini';
import { assemble } from './create';
import { optionsFromEnv, OutboxOptionsError, type OutboxOptions, type ResolvedOptions } from './core/options';
import type { Clock, Transport } from './core/types';
import type { Outbox } from './trace/types';
import { createFetchTransport } from './transport/fetch';
import { withQueueHandoff } from './transport/queue-handoff';
import { callHost } from './core/errors';
import { QUEUE_LIMITS, type QueueProducer } from './wire/queue-message';

export { outboxQueueConsumer, type QueueConsumer, type QueueConsumerOptions } from './relay/consumer';

export type * from './public-types';
export { OutboxOptionsError } from './core/options';
/**
 * With only the `nodejs_als` flag: `useAsyncLocalStorage(AsyncLocalStorage)` (from 'node:async_hooks') before the
 * first tracing call makes the active context follow `await`. With `nodejs_compat` it is found by itself.
 */
export { useAsyncLocalStorage } from './trace/context';

/** The part of an ExecutionContext Outbox uses. */
export interface WaitUntilContext {
  waitUntil(promise: Promise<unknown>): void;
}

/** Options of the Workers createOutbox(): the shared options (endpoint may come from env) plus env and ctx. */
export type WorkerOutboxOptions = Partial<OutboxOptions> & {
  /** The Worker's `env`: OUTBOX_* / LANGFUSE_* are read from it; explicit options win. */
  env?: object;
  /** The invocation's ExecutionContext: every send is handed to `ctx.waitUntil`. */
  ctx?: WaitUntilContext;
  /**
   * A Cloudflare Queues producer binding (`env.OUTBOX_QUEUE`): what cannot be delivered inside the waitUntil budget
   * goes to the queue instead of being dropped, and `outboxQueueConsumer` (this Worker's `queue` handler) delivers
   * it later. Batches are then cut at 120 000 bytes (a queue message is at most 128 KB).
   */
  queue?: QueueProducer;
};

/**
 * Work handed to `waitUntil` may run for 30 s after the response
 * (https://developers.cloudflare.com/workers/runtime-apis/context/#waituntil); Outbox gives up 5 s before that
 * so it can still report what it could not deliver (onDrop 'shutdown').
 */
export const WAIT_UNTIL_BUDGET_MS = 25_000;

// `waitUntil` from 'cloudflare:workers' ties work to the current request without a ctx. That module exists only
// in workerd, so it is loaded with a dynamic import that fails softly elsewhere (Node, browsers) instead of a
// static import that would make this file unloadable there; bundlers must leave it external (wrangler does;
// scripts/build.mjs marks `cloudflare:*` external).
let ambientWaitUntil: ((promise: Promise<unknown>) => void) | undefined;
import('cloudflare:workers').then(
  (m: { waitUntil?: (promise: Promise<unknown>) => void }) => {
    if (typeof m.waitUntil === 'function') ambientWaitUntil = m.waitUntil;
  },
  () => undefined,
);

/**
 * Timers that never fire: a timer may not outlive the request that set it, so the core's flush-interval and
 * backoff timers are off; sends happen on flush(), at flushAt, and at shutdown (which ignores backoff).
 */
const requestClock: Clock = { now: () => Date.now(), setTimeout: () => 0, clearTimeout: () => undefined };

const extraShape = {
  env: z.optional(z.custom<object>((v) => typeof v === 'object' && v !== null, { error: 'must be the Worker env object' })),
  ctx: z.optional(
    z.custom<WaitUntilContext>((v) => typeof (v as WaitUntilContext | null)?.waitUntil === 'function', {
      error: 'must be the ExecutionContext (an object with waitUntil)',
    }),
  ),
  queue: z.optional(
    z.custom<QueueProducer>((v) => typeof (v as QueueProducer | null)?.sendBatch === 'function', {
      error: 'must be a Cloudflare Queues producer binding (an object with send and sendBatch)',
    }),
  ),
};

/** The transport, backed by the queue when one is configured (batches then fit one queue message). */
function queueBacked(o: ResolvedOptions & { queue?: QueueProducer }, transport: Transport): Transport {
  if (!o.queue) return transport;
  o.maxBatchBytes = Math.min(o.maxBatchBytes, QUEUE_LIMITS.messageBytes);
  o.maxEventBytes = Math.min(o.maxEventBytes, o.maxBatchBytes - 1024);
  return withQueueHandoff(transport, o.queue, (error) => callHost(o.onError, error));
}

/** A Workers client plus the hook withOutbox uses to start the waitUntil budget. */
function build(input: WorkerOutboxOptions, autoFlush: boolean): { outbox: Outbox; startBudget: () => void } {
  const env = (input && typeof input === 'object' ? input.env : undefined) as Record<string, unknown> | undefined;
  let deadline = Infinity;
  let budgetMs = WAIT_UNTIL_BUDGET_MS;
  let waitUntil: (work: Promise<unknown>) => void = () => undefined;
  let scheduled = false;
  const sendSoon = () => {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      waitUntil(outbox.flush());
    });
  };
  const { outbox } = assemble(input, {
    fromEnv: optionsFromEnv(env),
    extraShape,
    check(o) {
      if (o.storage === 'indexeddb') {
        throw new OutboxOptionsError("createOutbox: invalid options: storage must be 'memory' in a Worker (no IndexedDB), got \"indexeddb\"");
      }
    },
    platform(o) {
      const ctx = o.ctx as WaitUntilContext | undefined;
      budgetMs = o.timing.waitUntilBudgetMs ?? WAIT_UNTIL_BUDGET_MS;
      waitUntil = (work) => {
        if (ctx) ctx.waitUntil(work);
        else ambientWaitUntil?.(work);
      };
      // Every request ends by the waitUntil deadline, whatever requestTimeoutMs says.
      const budgetFetch: typeof fetch = (url, init) => {
        const left = Math.min(deadline - Date.now(), budgetMs);
        if (left <= 0) return Promise.reject(new Error(`Workers waitUntil budget (${budgetMs} ms) spent`));
        const signal = init?.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(left)]) : AbortSignal.timeout(left);
        return fetch(url, { ...init, signal });
      };
      return {
        clock: requestClock,
        timers: false,
        waitUntil: (work) => waitUntil(work),
        // Without a wrapper nobody tells us when the invocation ends: send what a task queued at the end of that
        // task, inside waitUntil, so no record waits for a timer the platform would not keep.
        onQueued: autoFlush ? sendSoon : undefined,
        transport: queueBacked(o, createFetchTransport({
          timeoutMs: Math.min(o.requestTimeoutMs, budgetMs),
          compression: o.compression,
          fetch: budgetFetch,
        })),
      };
    },
  });
  const startBudget = () => {
    if (deadline === Infinity) deadline = Date.now() + budgetMs;
  };
  return { outbox, startBudget };
}

/**
 * Creates a client for one invocation. Memory only; sends go out at the end of each task that tracked
 * (or at flushAt) and are handed to `ctx.waitUntil` — or, without ctx, to `waitUntil` from
 * 'cloudflare:workers' — so the response never waits for them. Failed sends are retried at the next flush;
 * `ctx.waitUntil(outbox.shutdown())` gives them a last attempt and reports what is left (onDrop 'shutdown').
 * Create one per invocation: a Worker may not reuse I/O across requests. Throws OutboxOptionsError only.
 */
export function createOutbox(options: WorkerOutboxOptions = {}): Outbox {
  return build(options, true).outbox;
}

/** A module-worker handler whose methods get the invocation's client as their last argument. */
export interface OutboxHandler<Env = unknown> {
  fetch?(request: Request, env: Env, ctx: ExecutionContext, outbox: Outbox): Response | Promise<Response>;
  scheduled?(controller: ScheduledController, env: Env, ctx: ExecutionContext, outbox: Outbox): void | Promise<void>;
  queue?(batch: MessageBatch, env: Env, ctx: ExecutionContext, outbox: Outbox): void | Promise<void>;
}

/** Options for withOutbox: fixed, or computed from the invocation's env. `env` and `ctx` are filled in. */
export type WithOutboxOptions<Env> = Omit<WorkerOutboxOptions, 'env' | 'ctx'> | ((env: Env) => Omit<WorkerOutboxOptions, 'env' | 'ctx'>);

/**
 * Wraps a module worker: each `fetch`/`scheduled`/`queue` invocation gets its own client as the last argument;
 * when the handler returns or throws, `ctx.waitUntil(outbox.shutdown())` sends what it tracked after the
 * response, within the waitUntil budget, and reports what could not be delivered. The handler's result (or
 * error) passes through unchanged. Invalid options throw OutboxOptionsError on the first invocation.
 */
export function withOutbox<Env = unknown>(options: WithOutboxOptions<Env>, handler: OutboxHandler<Env>): ExportedHandler<Env> {
  function wrap<A>(
    method: ((arg: A, env: Env, ctx: ExecutionContext, outbox: Outbox) => unknown) | undefined,
  ): ((arg: A, env: Env, ctx: ExecutionContext) => Promise<any>) | undefined {
    if (!method) return undefined;
    return async (arg, env, ctx) => {
      const given = typeof options === 'function' ? options(env) : options;
      const { outbox, startBudget } = build({ ...given, env: env as object, ctx }, false);
      try {
        return await method.call(handler, arg, env, ctx, outbox);
      } finally {
        startBudget();
        ctx.waitUntil(outbox.shutdown());
      }
    };
  }
  const exported: ExportedHandler<Env> = {};
  const fetchHandler = wrap(handler.fetch);
  const scheduledHandler = wrap(handler.scheduled);
  const queueHandler = wrap(handler.queue);
  if (fetchHandler) exported.fetch = fetchHandler as ExportedHandlerFetchHandler<Env>;
  if (scheduledHandler) exported.scheduled = scheduledHandler;
  if (queueHandler) exported.queue = queueHandler as ExportedHandlerQueueHandler<Env>;
  return exported;
}

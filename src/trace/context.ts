/**
 * The active context of Langfuse's tracing calls: which observation is active and which trace attributes are
 * propagated. One store per runtime (every client shares it, as `@langfuse/tracing` shares OpenTelemetry's global
 * context):
 * - with AsyncLocalStorage (Node; Workers with `nodejs_compat`, or `nodejs_als` and useAsyncLocalStorage()), the
 *   context follows the callback across `await`, timers and promise callbacks;
 * - without it (pages, service workers, Workers without the flag), a synchronous stack: the context is in force
 *   while the callback runs synchronously and gone at its first `await` (code after it sees the context outside
 *   the call, normally none). The callback's own observation is passed to it: start children from that handle.
 */
import type { ObservationState } from './observation';
import type { Propagation } from './propagate';
import type { Observation } from './types';

/** What is active. Immutable: a nested call makes a new one. */
export interface ActiveContext {
  /** The active observation: its state, its handle, and the tracer it belongs to. */
  o?: { s: ObservationState; h: Observation; owner: object };
  /** Propagated trace attributes in force. */
  p?: Propagation;
  /** Trace id claimed by startActiveObservation()/observe() (Langfuse's baggage claim): a span of it is no app root. */
  c?: string;
}

export interface ContextStore {
  /** True when the context survives `await` (AsyncLocalStorage). */
  readonly async: boolean;
  get(): ActiveContext | undefined;
  run<R>(context: ActiveContext, fn: () => R): R;
}

/** Node's AsyncLocalStorage, as far as it is used here. */
export interface AsyncLocalStorageClass {
  new (): { getStore(): unknown; run<R>(store: unknown, fn: () => R): R };
}

let stackTop: ActiveContext | undefined;

/** The synchronous stack: a context is in force until `fn` returns (or reaches its first `await`). */
const syncStore: ContextStore = {
  async: false,
  get: () => stackTop,
  run(context, fn) {
    const saved = stackTop;
    stackTop = context;
    try {
      return fn();
    } finally {
      stackTop = saved;
    }
  },
};

function alsStore(Als: AsyncLocalStorageClass): ContextStore {
  const als = new Als();
  return {
    async: true,
    get: () => als.getStore() as ActiveContext | undefined,
    run: (context, fn) => als.run(context, fn),
  };
}

let chosen: ContextStore | undefined;

/**
 * Makes the active context follow `await` with this AsyncLocalStorage class (Workers with only `nodejs_als`:
 * `import { AsyncLocalStorage } from 'node:async_hooks'`). Call it before the first tracing call; later calls and
 * calls after the store was chosen are ignored (the store cannot change under open callbacks). Returns whether it
 * took effect.
 */
export function useAsyncLocalStorage(Als: AsyncLocalStorageClass): boolean {
  if (chosen !== undefined || typeof Als !== 'function') return false;
  try {
    chosen = alsStore(Als);
    return true;
  } catch {
    return false;
  }
}

/**
 * The runtime's store, chosen at first use: a registered AsyncLocalStorage, else `node:async_hooks` through
 * `process.getBuiltinModule` (Node 20.16+, Workers with `nodejs_compat`), else the synchronous stack.
 */
export function contextStore(): ContextStore {
  if (chosen === undefined) {
    let Als: AsyncLocalStorageClass | undefined;
    try {
      const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
      const mod = typeof getBuiltin === 'function' ? (getBuiltin('node:async_hooks') as { AsyncLocalStorage?: AsyncLocalStorageClass } | undefined) : undefined;
      Als = mod?.AsyncLocalStorage;
    } catch {
      Als = undefined;
    }
    if (!(Als && useAsyncLocalStorage(Als))) chosen = syncStore;
  }
  return chosen!;
}

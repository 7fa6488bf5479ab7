import { stringValue, traceAttributes, type Encoder } from './attributes';
import { contextStore, type ActiveContext, type ContextStore } from './context';
import { HEX } from '../core/hex';
import { createIds, normalizeHexId } from './ids';
import { buildSpan, mergeObservation, mergeTrace, type ObservationState, type SpanDefaults, type TraceState } from './observation';
import { propagation } from './propagate';
import { keepTrace, sampleBound } from './sample';
import { readStartOptions, rootIds } from './start-options';
import type { Observation, ObservationAttributes, ObservationType, SpanRecord, StartOptions, TracingCalls, WarnInfo } from './types';
import type { OtlpSpan } from '../wire/otlp';
import { fitSpan } from './budget';
import { toEpochMs } from './time';

/** Default of `maxAttributeBytes`: a quarter of the default `maxEventBytes`, so input, output and metadata fit. */
export const DEFAULT_MAX_ATTRIBUTE_BYTES = 64 * 1024;
/** Default of `maxSpanBytes`: the client's default `maxEventBytes`. */
export const DEFAULT_MAX_SPAN_BYTES = 256 * 1024;
/** Default of `maxOpenObservations`. */
export const DEFAULT_MAX_OPEN = 10_000;

/** What tracing needs from the client: a narrow door. */
export interface TracingDeps {
  /** Queues one finished span (write-ahead, OTLP wire). Called once per observation; must not throw. */
  emit(record: SpanRecord): void;
  /** Epoch ms. */
  now(): number;
  /** Fills a buffer with random bytes (`crypto.getRandomValues`). */
  fill(buffer: Uint8Array): void;
  /** Applied at end() to input, output and metadata (of the trace and of the observation). */
  mask?: (params: { data: unknown }) => unknown;
  environment?: string;
  release?: string;
  version?: string;
  /** UTF-8 bytes one attribute string may have; a longer one is replaced by a marker. @default 65536 */
  maxAttributeBytes?: number;
  /**
   * UTF-8 bytes one span's JSON may have (pass the client's `maxEventBytes`): past it the largest values are replaced
   * by markers, so the span is sent rather than dropped 'too-large'. @default 262144
   */
  maxSpanBytes?: number;
  /** Observations open at once; past it the oldest is ended early (WARNING). @default 10000 */
  maxOpenObservations?: number;
  /** Debug log (the client prints it only with `debug`). */
  log(message: string): void;
  /** Fraction of traces kept, decided per trace id (see sample.ts). @default 1 */
  sampleRate?: number;
  /** The active context. @default the runtime's (contextStore()) */
  context?: ContextStore;
  /** A value was replaced or dropped. */
  warn(info: WarnInfo): void;
}

/** What createTracing() returns. */
export interface Tracing extends TracingCalls {
  /** Spans of sampled-out traces not sent (`sampleRate`). */
  sampledOut(): number;
  /** Ends every open observation now with level WARNING and this statusMessage; returns how many. */
  endOpen(statusMessage: string): number;
  /** Observations open right now. */
  openCount(): number;
}

/** One tracer's state (see createTracing): its door to the client, its limits, and what is open now. */
interface TracerState {
  tracingDeps: TracingDeps;
  idSource: { traceId(): string; spanId(): string };
  /** UTF-8 bytes one attribute string may have (`maxAttributeBytes`). */
  attrLimit: number;
  /** UTF-8 bytes one span's JSON may have (`maxSpanBytes`). */
  spanLimit: number;
  /** `maxOpenObservations`. */
  openLimit: number;
  spanDefaults: SpanDefaults;
  /** Per-trace state, while one of the trace's observations is open. */
  traceById: Map<string, TraceState>;
  /** Open observations in start order (a Set keeps insertion order: the first is the oldest). */
  openSet: Set<ObservationState>;
  /** The runtime's active context. */
  store: ContextStore;
  /** `sampleRate` as TraceIdRatioBasedSampler's bound: a trace is kept when its id's accumulation is below it. */
  sampleBound: number;
  /** Spans of sampled-out traces, not sent. */
  sampledOutCount: number;
}

function now(t: TracerState): number {
  try {
    const ms = t.tracingDeps.now();
    if (Number.isFinite(ms)) return ms;
  } catch {
    /* a broken clock: fall through */
  }
  return Date.now();
}

function log(t: TracerState, message: string): void {
  try {
    t.tracingDeps.log(message);
  } catch {
    /* the host's logger is not our problem */
  }
}

function warnOf(t: TracerState, id: string, type: string): (detail: string) => void {
  return (detail) => {
    try {
      t.tracingDeps.warn({ id, type, detail });
    } catch {
      /* ignored */
    }
  };
}

function timeOf(t: TracerState, field: string, value: unknown, warn: (d: string) => void): number {
  if (value === undefined) return now(t);
  const ms = toEpochMs(value);
  if (ms !== undefined) return ms;
  warn(`${field}: not a Date, epoch ms or ISO string, now used`);
  return now(t);
}

/** Ends `s` once: builds its span (ids and times only if that fails), forgets it, hands the span to `deps.emit`. */
function finish(t: TracerState, s: ObservationState, endMs: number): void {
  if (!t.openSet.delete(s)) return;
  s.ended = true;
  const trace = s.trace;
  if (s.parentSpanId === undefined) trace.rootEnded = true;
  trace.open--;
  if (trace.open <= 0 && t.traceById.get(trace.id) === trace) t.traceById.delete(trace.id);
  // Sampled out: nothing is built or queued (counted in stats().sampledOut, not a loss).
  if (!trace.sampled) return void t.sampledOutCount++;
  const enc: Encoder = { maxBytes: t.attrLimit, mask: t.tracingDeps.mask, warn: warnOf(t, s.id, s.type) };
  let span: OtlpSpan;
  try {
    // The trace's attributes are encoded once per change (traceUpdate() clears trace.kv).
    if (trace.kv === undefined) {
      try {
        trace.kv = traceAttributes(trace.attrs, enc);
      } catch {
        enc.warn('trace: attributes unreadable, dropped');
        trace.kv = [];
      }
    }
    span = buildSpan(s, endMs, t.spanDefaults, enc, trace.kv);
    fitSpan(span, t.spanLimit, enc.warn);
  } catch {
    enc.warn('attributes: unexpected error, span sent with ids and times only');
    span = { traceId: s.traceId, spanId: s.id, name: s.name, kind: 1, startTimeUnixNano: '0', endTimeUnixNano: '0', attributes: [] };
  }
  try {
    t.tracingDeps.emit({ id: s.id, type: s.type, ts: endMs, body: span, wire: 'otlp' });
  } catch (error) {
    log(t, `outbox: emit failed for span ${s.id}: ${String(error)}`);
  }
}

/** Ends `s` early (page gone, too many open): level WARNING unless it is an ERROR, with `message` first. */
function forceEnd(t: TracerState, s: ObservationState, message: string, endMs: number): void {
  if (s.attrs.level !== 'ERROR') s.attrs.level = 'WARNING';
  const own = typeof s.attrs.statusMessage === 'string' && s.attrs.statusMessage !== '' ? `; ${s.attrs.statusMessage}` : '';
  s.attrs.statusMessage = message + own;
  finish(t, s, endMs);
}

function traceUpdate(s: ObservationState, attributes: unknown, warn: (d: string) => void): void {
  const t = s.trace;
  const set = mergeTrace(t.attrs, attributes, warn);
  if (set.length === 0) return;
  t.kv = undefined;
  for (const io of ['input', 'output'] as const) {
    if (!set.includes(io)) continue;
    if (t.rootEnded) warn(`trace.${io}: set after the trace's root observation ended (Langfuse shows the root's ${io} as the trace's), not sent`);
    else if (!t.hasRoot) warn(`trace.${io}: this trace's root observation is elsewhere (Langfuse shows the root's ${io} as the trace's), not sent`);
  }
}

/**
 * Langfuse's observation API without an OTel context: observations are plain objects that merge what they are
 * given and, at end(), become one immutable OTLP span handed to `deps.emit` once. Nothing here throws to the host:
 * a value that cannot be sent as given is replaced by a marker and reported through `deps.warn`, a call after end()
 * is ignored and logged. State is bounded: per-trace state lives while one of its observations is open, and at most
 * `maxOpenObservations` are open (past it the oldest is ended early with level WARNING).
 */
export function createTracing(deps: TracingDeps): Tracing {
  const t: TracerState = {
    tracingDeps: deps,
    idSource: createIds((buffer) => {
      try {
        deps.fill(buffer);
      } catch {
        for (let i = 0; i < buffer.length; i++) buffer[i] = (Math.random() * 256) | 0;
      }
    }),
    attrLimit: deps.maxAttributeBytes ?? DEFAULT_MAX_ATTRIBUTE_BYTES,
    spanLimit: deps.maxSpanBytes ?? DEFAULT_MAX_SPAN_BYTES,
    openLimit: deps.maxOpenObservations ?? DEFAULT_MAX_OPEN,
    spanDefaults: { environment: deps.environment, release: deps.release, version: deps.version },
    traceById: new Map(),
    openSet: new Set(),
    store: deps.context ?? contextStore(),
    sampleBound: sampleBound(deps.sampleRate),
    sampledOutCount: 0,
  };
  const logWarn = (detail: string) => log(t, `outbox: ${detail}`);
  return {
    startObservation: ((name: string, attributes?: ObservationAttributes, options?: StartOptions) => start(t, name, attributes, options)) as Tracing['startObservation'],
    startActiveObservation: ((name: string, fn: (o: Observation) => unknown, options?: StartOptions & { endOnExit?: boolean }) =>
      startActive(t, name, fn, options)) as Tracing['startActiveObservation'],
    observe: ((fn: (...args: unknown[]) => unknown, options?: Record<string, unknown>) => observe(t, fn, options)) as Tracing['observe'],
    updateActiveObservation(attributes, options) {
      try {
        const active = t.store.get()?.o;
        if (active === undefined) return logWarn('updateActiveObservation: no active observation, ignored');
        const s = active.s;
        const asType = options?.asType;
        if (asType !== undefined) {
          const [, type] = readStartOptions({ asType }, []);
          if (type === asType && !s.ended) s.type = type;
        }
        active.h.update(attributes as ObservationAttributes);
      } catch {
        /* never thrown to the host */
      }
    },
    propagateAttributes<R>(attributes: unknown, fn: () => R): R {
      let context: ActiveContext | undefined;
      try {
        const outer = t.store.get();
        const p = propagation(outer?.p, attributes, logWarn);
        // Langfuse also sets them on the span active now.
        if (outer?.o !== undefined && !outer.o.s.ended) outer.o.s.prop = p;
        context = { ...outer, p };
      } catch (error) {
        logWarn(`propagateAttributes failed: ${String(error)}`);
      }
      return context === undefined ? fn() : t.store.run(context, fn);
    },
    getActiveTraceId: () => t.store.get()?.o?.s.traceId,
    getActiveSpanId: () => t.store.get()?.o?.s.id,
    createTraceId: (seed) => createTraceId(t, seed),
    sampledOut: () => t.sampledOutCount,
    endOpen(statusMessage: string): number {
      let count = 0;
      try {
        const at = now(t);
        const message = typeof statusMessage === 'string' && statusMessage !== '' ? statusMessage : 'outbox: the page went away';
        for (const s of [...t.openSet]) {
          forceEnd(t, s, message, Math.max(at, s.start));
          count++;
        }
      } catch {
        /* never thrown to the host */
      }
      return count;
    },
    openCount: () => t.openSet.size,
  };
}

function start(t: TracerState, name: string, attributes?: ObservationAttributes, options?: StartOptions, parent?: ObservationState): Observation {
  try {
    const s = begin(t, name, attributes, options, parent);
    return s.h!;
  } catch (error) {
    log(t, `outbox: startObservation failed: ${String(error)}`);
    return detached(t);
  }
}

/**
 * The parent of a new observation: the handle it was started from; else `parentSpanContext`; else `traceId` +
 * `parentSpanId`; else the active observation (ours: a local parent; another client's: a remote one); else none.
 */
function begin(t: TracerState, name: unknown, attributes: unknown, options: StartOptions | undefined, parent?: ObservationState): ObservationState {
  const early: string[] = [];
  const [opts, type] = readStartOptions(options, early);
  const active = t.store.get();
  let traceId: string | undefined;
  let parentSpanId: string | undefined;
  let trace: TraceState | undefined;
  if (opts.parentSpanContext !== undefined && parent === undefined) {
    let remote: { traceId?: unknown; spanId?: unknown } | undefined;
    try {
      remote = opts.parentSpanContext as typeof remote;
      traceId = normalizeHexId(remote?.traceId, 32);
      parentSpanId = normalizeHexId(remote?.spanId, 16);
    } catch {
      traceId = undefined;
    }
    if (traceId === undefined || parentSpanId === undefined) {
      early.push('options.parentSpanContext: needs { traceId: 32 hex digits, spanId: 16 hex digits }, ignored');
      traceId = parentSpanId = undefined;
    }
  }
  if (traceId === undefined) {
    if (parent === undefined && opts.traceId === undefined && opts.parentSpanId === undefined && active?.o !== undefined) {
      if (active.o.owner === t) parent = active.o.s;
      else [traceId, parentSpanId] = [active.o.s.traceId, active.o.s.id];
    }
    if (parent) {
      traceId = parent.traceId;
      parentSpanId = parent.id;
      trace = parent.trace;
      if (opts.traceId !== undefined || opts.parentSpanId !== undefined || opts.parentSpanContext !== undefined) {
        early.push('options.traceId/parentSpanId/parentSpanContext: ignored on a child observation');
      }
    } else if (traceId === undefined) [traceId, parentSpanId] = rootIds(opts, early, t.idSource.traceId);
  }
  trace ??= t.traceById.get(traceId);
  if (trace === undefined) trace = { id: traceId, open: 0, attrs: {}, hasRoot: false, rootEnded: false, sampled: keepTrace(traceId, t.sampleBound) };
  if (!t.traceById.has(traceId)) t.traceById.set(traceId, trace);
  trace.open++;
  if (parentSpanId === undefined) trace.hasRoot = true;

  const id = t.idSource.spanId();
  const warn = warnOf(t, id, type);
  for (const detail of early) warn(detail);
  const s: ObservationState = {
    id,
    traceId,
    parentSpanId,
    type,
    name: '',
    start: timeOf(t, 'startTime', opts.startTime, warn),
    attrs: {},
    trace,
    ended: false,
    prop: active !== undefined ? active.p : parent?.prop,
    // Langfuse's app root: no parent of ours (a remote one counts only when the trace is not claimed here).
    appRoot: parent === undefined && (parentSpanId === undefined || active?.c !== traceId),
  };
  const enc: Encoder = { maxBytes: t.attrLimit, warn };
  s.name = (typeof name === 'string' || typeof name === 'number' ? stringValue('name', name, enc) : undefined) ?? '';
  if (s.name === '') {
    warn('name: not a non-empty string, "observation" used');
    s.name = 'observation';
  }
  const open = t.openSet;
  open.add(s);
  mergeObservation(s.attrs, attributes, warn);
  if (opts.trace !== undefined) traceUpdate(s, opts.trace, warn);
  if (open.size > t.openLimit) {
    const oldest = open.values().next().value as ObservationState;
    warnOf(t, oldest.id, oldest.type)(`observation: more than ${t.openLimit} open, ended early`);
    forceEnd(t, oldest, `outbox: ended early, more than ${t.openLimit} observations were open`, now(t));
  }
  s.h = handle(t, s);
  if (type === 'event') finish(t, s, s.start);
  return s;
}

/** The host's handle on open observation `s`. */
function handle(t: TracerState, s: ObservationState): Observation {
  /** Runs `work` while `s` is open, else logs that `call` was ignored; never throws to the host. */
  const whileOpen = (call: string, work: (warn: (detail: string) => void) => void): void => {
    try {
      if (s.ended) log(t, `outbox: ${call} after end() ignored (${s.type} ${s.id} "${s.name}")`);
      else work(warnOf(t, s.id, s.type));
    } catch {
      /* never thrown to the host */
    }
  };
  const self: Observation = {
    id: s.id,
    traceId: s.traceId,
    type: s.type,
    update: (attributes) => (whileOpen('update()', (warn) => mergeObservation(s.attrs, attributes, warn)), self),
    updateTrace: (attributes) => (whileOpen('updateTrace()', (warn) => traceUpdate(s, attributes, warn)), self),
    startObservation: ((name: string, attributes?: ObservationAttributes, options?: StartOptions) => start(t, name, attributes, options, s)) as Observation['startObservation'],
    end: (endTime) =>
      whileOpen('end()', (warn) => {
        let endMs = timeOf(t, 'endTime', endTime, warn);
        if (endMs < s.start) {
          warn('endTime: before the start time, the start time used');
          endMs = s.start;
        }
        finish(t, s, endMs);
      }),
  };
  return self;
}

/** An observation that records nothing: the last resort when starting one failed unexpectedly. */
function detached(t: TracerState): Observation {
  const self: Observation = {
    id: t.idSource.spanId(),
    traceId: t.idSource.traceId(),
    type: 'span',
    update: () => self,
    updateTrace: () => self,
    startObservation: (() => self) as Observation['startObservation'],
    end() {},
  };
  return self;
}

/** The error status Langfuse sets when an active callback throws: the error's message, else 'Unknown error'. */
function failed(s: ObservationState | undefined, error: unknown): void {
  if (s === undefined || s.ended) return;
  try {
    s.failed = error instanceof Error ? error.message : 'Unknown error';
  } catch {
    s.failed = 'Unknown error';
  }
}

/** Starts an observation for `fn` and makes it the active one while `fn` runs (see TracingCalls). */
function startActive(t: TracerState, name: string, fn: (o: Observation) => unknown, options: (StartOptions & { endOnExit?: boolean }) | undefined): unknown {
  let s: ObservationState | undefined;
  let context: ActiveContext | undefined;
  let endOnExit = true;
  try {
    endOnExit = options?.endOnExit !== false;
    s = begin(t, name, undefined, options);
    context = { ...t.store.get(), o: { s, h: s.h!, owner: t }, c: s.traceId };
  } catch (error) {
    log(t, `outbox: startActiveObservation: ${String(error)}`);
  }
  const h = s?.h ?? detached(t);
  const end = () => endOnExit && h.end();
  const run = () => {
    let result: unknown;
    try {
      result = fn(h);
    } catch (error) {
      failed(s, error);
      end();
      throw error;
    }
    if (result instanceof Promise) {
      return result.then(
        (value) => (end(), value),
        (error) => {
          failed(s, error);
          end();
          throw error;
        },
      );
    }
    end();
    return result;
  };
  return context === undefined ? run() : t.store.run(context, run);
}

/** observe(): each call of the wrapper is one observation, as `@langfuse/tracing`'s observe() makes it. */
function observe(t: TracerState, fn: (...args: unknown[]) => unknown, options: Record<string, unknown> | undefined): (...args: unknown[]) => unknown {
  let name = 'anonymous-function';
  let asType: unknown;
  let captureInput = true;
  let captureOutput = true;
  let endOnExit = true;
  let parentSpanContext: unknown;
  try {
    const o = options ?? {};
    name = typeof o.name === 'string' && o.name !== '' ? o.name : (typeof fn === 'function' && fn.name) || name;
    asType = o.asType;
    captureInput = o.captureInput !== false;
    captureOutput = o.captureOutput !== false;
    endOnExit = o.endOnExit !== false;
    parentSpanContext = o.parentSpanContext;
  } catch {
    /* unreadable options: the defaults */
  }
  // Not a function: handed back as it is (calling it fails as it would have).
  if (typeof fn !== 'function') return fn;
  return function (this: unknown, ...args: unknown[]): unknown {
    let s: ObservationState | undefined;
    let context: ActiveContext | undefined;
    try {
      const input = captureInput && args.length > 0 ? (args.length === 1 ? args[0] : args) : undefined;
      s = begin(t, name, input !== undefined ? { input } : {}, { asType: asType as ObservationType, parentSpanContext } as StartOptions);
      context = { ...t.store.get(), o: { s, h: s.h!, owner: t }, c: s.traceId };
    } catch (error) {
      log(t, `outbox: observe: ${String(error)}`);
    }
    const h = s?.h;
    const done = (output: unknown, error?: { error: unknown }) => {
      if (h === undefined) return;
      if (error) {
        let message: string;
        try {
          message = (error.error instanceof Error ? error.error.message : String(error.error)) || 'Function threw an error';
        } catch {
          message = 'Function threw an error';
        }
        h.update({ level: 'ERROR', statusMessage: message, output: captureOutput ? { error: safeString(error.error) } : undefined });
      } else if (captureOutput) h.update({ output });
      if (endOnExit) h.end();
    };
    const call = () => fn.apply(this, args);
    let result: unknown;
    try {
      result = context === undefined ? call() : t.store.run(context, call);
    } catch (error) {
      done(undefined, { error });
      throw error;
    }
    if (result instanceof Promise) {
      return result.then(
        (value) => (done(value), value),
        (error) => {
          done(undefined, { error });
          throw error;
        },
      );
    }
    done(result);
    return result;
  };
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '<unprintable error>';
  }
}

/** createTraceId(): SHA-256 of the seed's UTF-8, first 32 hex digits (as `@langfuse/tracing`); else a random id. */
async function createTraceId(t: TracerState, seed?: string): Promise<string> {
  if (seed) {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(String(seed))));
    let id = '';
    for (let i = 0; i < 16; i++) id += HEX[digest[i]!]!;
    return id;
  }
  return t.idSource.traceId();
}

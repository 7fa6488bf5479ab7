import { stringValue, type Encoder } from './attributes';
import { createIds } from './ids';
import { readStartOptions, rootIds } from './start-options';
import { mergeObservation, type ObservationState, type TraceState } from './observation';
import { finish, forceEnd, log, now, timeOf, traceUpdate, warnOf, type TracerState } from './tracer-state';
import type { Observation, ObservationAttributes, StartOptions, Tracing, TracingDeps } from './types';

/** Default of `maxAttributeBytes`: a quarter of the default `maxEventBytes`, so input, output and metadata fit. */
export const DEFAULT_MAX_ATTRIBUTE_BYTES = 64 * 1024;
/** Default of `maxSpanBytes`: the client's default `maxEventBytes`. */
export const DEFAULT_MAX_SPAN_BYTES = 256 * 1024;
/** Default of `maxOpenObservations`. */
export const DEFAULT_MAX_OPEN = 10_000;

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
  };
  return {
    startObservation(name, attributes, options) {
      return start(t, name, attributes, options);
    },
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
    return begin(t, name, attributes, options, parent);
  } catch (error) {
    log(t, `outbox: startObservation failed: ${String(error)}`);
    return detached(t);
  }
}

function begin(t: TracerState, name: unknown, attributes: unknown, options: StartOptions | undefined, parent?: ObservationState): Observation {
  const early: string[] = [];
  const [opts, type] = readStartOptions(options, early);
  let traceId: string;
  let parentSpanId: string | undefined;
  let trace: TraceState | undefined;
  if (parent) {
    traceId = parent.traceId;
    parentSpanId = parent.id;
    trace = parent.trace;
    if (opts.traceId !== undefined || opts.parentSpanId !== undefined) early.push('options.traceId/parentSpanId: ignored on a child observation');
  } else {
    [traceId, parentSpanId] = rootIds(opts, early, t.idSource.traceId);
    trace = t.traceById.get(traceId);
  }
  if (trace === undefined) trace = { id: traceId, open: 0, attrs: {}, hasRoot: false, rootEnded: false };
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
  if (type === 'event') finish(t, s, s.start);
  return handle(t, s);
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
  return {
    id: s.id,
    traceId: s.traceId,
    type: s.type,
    update: (attributes) => whileOpen('update()', (warn) => mergeObservation(s.attrs, attributes, warn)),
    updateTrace: (attributes) => whileOpen('updateTrace()', (warn) => traceUpdate(s, attributes, warn)),
    startObservation: (name, attributes, options) => start(t, name, attributes, options, s),
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
}

/** An observation that records nothing: the last resort when starting one failed unexpectedly. */
function detached(t: TracerState): Observation {
  const self: Observation = {
    id: t.idSource.spanId(),
    traceId: t.idSource.traceId(),
    type: 'span',
    update() {},
    updateTrace() {},
    startObservation: () => self,
    end() {},
  };
  return self;
}

import type { OtlpSpan } from '../wire/otlp';
import { stringValue, type Encoder } from './attributes';
import { fitSpan } from './budget';
import { createIds } from './ids';
import { readStartOptions, rootIds } from './start-options';
import { buildSpan, mergeObservation, mergeTrace, type ObservationState, type TraceState } from './observation';
import { toEpochMs } from './time';
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
  const ids = createIds((buffer) => {
    try {
      deps.fill(buffer);
    } catch {
      for (let i = 0; i < buffer.length; i++) buffer[i] = (Math.random() * 256) | 0;
    }
  });
  const maxBytes = deps.maxAttributeBytes ?? DEFAULT_MAX_ATTRIBUTE_BYTES;
  const maxSpanBytes = deps.maxSpanBytes ?? DEFAULT_MAX_SPAN_BYTES;
  const maxOpen = deps.maxOpenObservations ?? DEFAULT_MAX_OPEN;
  const defaults = { environment: deps.environment, release: deps.release, version: deps.version };
  const traces = new Map<string, TraceState>();
  /** Open observations in start order (a Set keeps insertion order: the first is the oldest). */
  const open = new Set<ObservationState>();

  function now(): number {
    try {
      const t = deps.now();
      if (Number.isFinite(t)) return t;
    } catch {
      /* a broken clock: fall through */
    }
    return Date.now();
  }
  function log(message: string): void {
    try {
      deps.log(message);
    } catch {
      /* the host's logger is not our problem */
    }
  }
  function warnOf(id: string, type: string): (detail: string) => void {
    return (detail) => {
      try {
        deps.warn({ id, type, detail });
      } catch {
        /* ignored */
      }
    };
  }
  function encoder(s: ObservationState): Encoder {
    return { maxBytes, mask: deps.mask, warn: warnOf(s.id, s.type) };
  }

  function timeOf(field: string, value: unknown, warn: (d: string) => void): number {
    if (value === undefined) return now();
    const ms = toEpochMs(value);
    if (ms !== undefined) return ms;
    warn(`${field}: not a Date, epoch ms or ISO string, now used`);
    return now();
  }

  function finish(s: ObservationState, endMs: number): void {
    if (!open.delete(s)) return;
    s.ended = true;
    const t = s.trace;
    const enc = encoder(s);
    let span: OtlpSpan;
    try {
      span = buildSpan(s, endMs, defaults, enc);
      fitSpan(span, maxSpanBytes, enc.warn);
    } catch {
      enc.warn('attributes: unexpected error, span sent with ids and times only');
      span = { traceId: s.traceId, spanId: s.id, name: s.name, kind: 1, startTimeUnixNano: '0', endTimeUnixNano: '0', attributes: [] };
    }
    if (s.parentSpanId === undefined) t.rootEnded = true;
    t.open--;
    if (t.open <= 0 && traces.get(t.id) === t) traces.delete(t.id);
    try {
      deps.emit({ id: s.id, type: s.type, ts: endMs, body: span, wire: 'otlp' });
    } catch (error) {
      log(`outbox: emit failed for span ${s.id}: ${String(error)}`);
    }
  }

  /** Ends `s` early (page gone, too many open): level WARNING unless it is an ERROR, with `message` first. */
  function forceEnd(s: ObservationState, message: string, endMs: number): void {
    if (s.attrs.level !== 'ERROR') s.attrs.level = 'WARNING';
    const own = typeof s.attrs.statusMessage === 'string' && s.attrs.statusMessage !== '' ? `; ${s.attrs.statusMessage}` : '';
    s.attrs.statusMessage = message + own;
    finish(s, endMs);
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

  function handle(s: ObservationState): Observation {
    /** Runs `work` while `s` is open, else logs that `call` was ignored; never throws to the host. */
    const whileOpen = (call: string, work: (warn: (detail: string) => void) => void): void => {
      try {
        if (s.ended) log(`outbox: ${call} after end() ignored (${s.type} ${s.id} "${s.name}")`);
        else work(warnOf(s.id, s.type));
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
      startObservation: (name, attributes, options) => start(name, attributes, options, s),
      end: (endTime) =>
        whileOpen('end()', (warn) => {
          let endMs = timeOf('endTime', endTime, warn);
          if (endMs < s.start) {
            warn('endTime: before the start time, the start time used');
            endMs = s.start;
          }
          finish(s, endMs);
        }),
    };
  }

  function begin(name: unknown, attributes: unknown, options: StartOptions | undefined, parent?: ObservationState): Observation {
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
      [traceId, parentSpanId] = rootIds(opts, early, ids.traceId);
      trace = traces.get(traceId);
    }
    if (trace === undefined) trace = { id: traceId, open: 0, attrs: {}, hasRoot: false, rootEnded: false };
    if (!traces.has(traceId)) traces.set(traceId, trace);
    trace.open++;
    if (parentSpanId === undefined) trace.hasRoot = true;

    const id = ids.spanId();
    const warn = warnOf(id, type);
    for (const detail of early) warn(detail);
    const s: ObservationState = {
      id,
      traceId,
      parentSpanId,
      type,
      name: '',
      start: timeOf('startTime', opts.startTime, warn),
      attrs: {},
      trace,
      ended: false,
    };
    const enc: Encoder = { maxBytes, warn };
    s.name = (typeof name === 'string' || typeof name === 'number' ? stringValue('name', name, enc) : undefined) ?? '';
    if (s.name === '') {
      warn('name: not a non-empty string, "observation" used');
      s.name = 'observation';
    }
    open.add(s);
    mergeObservation(s.attrs, attributes, warn);
    if (opts.trace !== undefined) traceUpdate(s, opts.trace, warn);
    if (open.size > maxOpen) {
      const oldest = open.values().next().value as ObservationState;
      warnOf(oldest.id, oldest.type)(`observation: more than ${maxOpen} open, ended early`);
      forceEnd(oldest, `outbox: ended early, more than ${maxOpen} observations were open`, now());
    }
    if (type === 'event') finish(s, s.start);
    return handle(s);
  }

  function start(name: string, attributes?: ObservationAttributes, options?: StartOptions, parent?: ObservationState): Observation {
    try {
      return begin(name, attributes, options, parent);
    } catch (error) {
      log(`outbox: startObservation failed: ${String(error)}`);
      return detached();
    }
  }

  /** An observation that records nothing: the last resort when starting one failed unexpectedly. */
  function detached(): Observation {
    const self: Observation = {
      id: ids.spanId(),
      traceId: ids.traceId(),
      type: 'span',
      update() {},
      updateTrace() {},
      startObservation: () => self,
      end() {},
    };
    return self;
  }

  return {
    startObservation(name, attributes, options) {
      return start(name, attributes, options);
    },
    endOpen(statusMessage: string): number {
      let count = 0;
      try {
        const at = now();
        const message = typeof statusMessage === 'string' && statusMessage !== '' ? statusMessage : 'outbox: the page went away';
        for (const s of [...open]) {
          forceEnd(s, message, Math.max(at, s.start));
          count++;
        }
      } catch {
        /* never thrown to the host */
      }
      return count;
    },
    openCount: () => open.size,
  };
}

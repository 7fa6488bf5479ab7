import type { OtlpSpan } from '../wire/otlp';
import type { Encoder } from './attributes';
import { fitSpan } from './budget';
import { buildSpan, mergeTrace, type ObservationState, type SpanDefaults, type TraceState } from './observation';
import type { ContextStore } from './context';
import { toEpochMs } from './time';
import type { SpanRecord, TracingCalls, WarnInfo } from './types';

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
export interface TracerState {
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

export function now(t: TracerState): number {
  try {
    const ms = t.tracingDeps.now();
    if (Number.isFinite(ms)) return ms;
  } catch {
    /* a broken clock: fall through */
  }
  return Date.now();
}

export function log(t: TracerState, message: string): void {
  try {
    t.tracingDeps.log(message);
  } catch {
    /* the host's logger is not our problem */
  }
}

export function warnOf(t: TracerState, id: string, type: string): (detail: string) => void {
  return (detail) => {
    try {
      t.tracingDeps.warn({ id, type, detail });
    } catch {
      /* ignored */
    }
  };
}

export function timeOf(t: TracerState, field: string, value: unknown, warn: (d: string) => void): number {
  if (value === undefined) return now(t);
  const ms = toEpochMs(value);
  if (ms !== undefined) return ms;
  warn(`${field}: not a Date, epoch ms or ISO string, now used`);
  return now(t);
}

/** Ends `s` once: builds its span (ids and times only if that fails), forgets it, hands the span to `deps.emit`. */
export function finish(t: TracerState, s: ObservationState, endMs: number): void {
  if (!t.openSet.delete(s)) return;
  s.ended = true;
  const trace = s.trace;
  if (!trace.sampled) {
    // Sampled out: nothing is built or queued (counted in stats().sampledOut, not a loss).
    if (s.parentSpanId === undefined) trace.rootEnded = true;
    trace.open--;
    if (trace.open <= 0 && t.traceById.get(trace.id) === trace) t.traceById.delete(trace.id);
    t.sampledOutCount++;
    return;
  }
  const enc: Encoder = { maxBytes: t.attrLimit, mask: t.tracingDeps.mask, warn: warnOf(t, s.id, s.type) };
  let span: OtlpSpan;
  try {
    span = buildSpan(s, endMs, t.spanDefaults, enc);
    fitSpan(span, t.spanLimit, enc.warn);
  } catch {
    enc.warn('attributes: unexpected error, span sent with ids and times only');
    span = { traceId: s.traceId, spanId: s.id, name: s.name, kind: 1, startTimeUnixNano: '0', endTimeUnixNano: '0', attributes: [] };
  }
  if (s.parentSpanId === undefined) trace.rootEnded = true;
  trace.open--;
  if (trace.open <= 0 && t.traceById.get(trace.id) === trace) t.traceById.delete(trace.id);
  try {
    t.tracingDeps.emit({ id: s.id, type: s.type, ts: endMs, body: span, wire: 'otlp' });
  } catch (error) {
    log(t, `outbox: emit failed for span ${s.id}: ${String(error)}`);
  }
}

/** Ends `s` early (page gone, too many open): level WARNING unless it is an ERROR, with `message` first. */
export function forceEnd(t: TracerState, s: ObservationState, message: string, endMs: number): void {
  if (s.attrs.level !== 'ERROR') s.attrs.level = 'WARNING';
  const own = typeof s.attrs.statusMessage === 'string' && s.attrs.statusMessage !== '' ? `; ${s.attrs.statusMessage}` : '';
  s.attrs.statusMessage = message + own;
  finish(t, s, endMs);
}

export function traceUpdate(s: ObservationState, attributes: unknown, warn: (d: string) => void): void {
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

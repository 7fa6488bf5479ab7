import { attr, type OtlpKeyValue, type OtlpSpan } from '../wire/otlp';
import { ioText, mergeMetadata, observationAttributes, stringValue, type Encoder } from './attributes';
import type { Propagation } from './propagate';
import { unixNano } from './time';
import type { Observation, ObservationAttributes, ObservationType, TraceAttributes } from './types';

/** One trace as this client sees it: merged trace attributes, shared by its observations until the last one ends. */
export interface TraceState {
  id: string;
  /** Observations of this trace still open. */
  open: number;
  attrs: TraceAttributes;
  /** `attrs` as attributes, computed once per change (masking and serializing trace metadata is not per span). */
  kv?: OtlpKeyValue[];
  /** A root (an observation without a parent) was started here / has ended: trace I/O rides on it. */
  hasRoot: boolean;
  rootEnded: boolean;
  /** Kept by `sampleRate` (decided once per trace id): a trace is sent or dropped whole. */
  sampled: boolean;
}

/** One open observation: what was given so far, merged; turned into a span only at end(). */
export interface ObservationState {
  id: string;
  traceId: string;
  parentSpanId?: string;
  type: ObservationType;
  name: string;
  /** Epoch ms. */
  start: number;
  attrs: ObservationAttributes;
  trace: TraceState;
  ended: boolean;
  /** The host's handle (startActiveObservation() makes it the active one). */
  h?: Observation;
  /** Propagated trace attributes in force when it started. */
  prop?: Propagation;
  /** Langfuse's app root (`langfuse.internal.is_app_root`): no parent of ours, and its trace not claimed. */
  appRoot: boolean;
  /** The error status of a throwing startActiveObservation() callback (its message), as Langfuse sets it. */
  failed?: string;
}

const OBSERVATION_KEYS = [
  'input', 'output', 'metadata', 'level', 'statusMessage', 'version', 'environment',
  'model', 'modelParameters', 'usageDetails', 'costDetails', 'completionStartTime', 'prompt',
] as const;
const TRACE_KEYS = ['name', 'userId', 'sessionId', 'tags', 'metadata', 'public', 'input', 'output', 'version', 'release'] as const;

/**
 * Merges the known keys of `source` into `into`: later values win, undefined leaves a value alone, metadata merges
 * key by key. Each key is read once, in its own try (a hostile getter costs that key only). Returns the keys set.
 */
function merge(into: Record<string, unknown>, source: unknown, keys: readonly string[], field: string, warn: (d: string) => void): string[] {
  const set: string[] = [];
  if (source === undefined || source === null) return set;
  if (typeof source !== 'object') {
    warn(`${field}: not an object, ignored`);
    return set;
  }
  for (const key of keys) {
    let value: unknown;
    try {
      value = (source as Record<string, unknown>)[key];
    } catch {
      warn(`${field}.${key}: getter threw, ignored`);
      continue;
    }
    if (value === undefined) continue;
    if (key === 'metadata' && into.metadata !== undefined) {
      const merged: Record<string, unknown> = Object.create(null);
      mergeMetadata(`${field}.metadata`, merged, into.metadata, warn);
      mergeMetadata(`${field}.metadata`, merged, value, warn);
      value = merged;
    }
    into[key] = value;
    set.push(key);
  }
  return set;
}

/** Merges observation attributes (update()). */
export function mergeObservation(into: ObservationAttributes, source: unknown, warn: (d: string) => void): void {
  merge(into as Record<string, unknown>, source, OBSERVATION_KEYS, 'attributes', warn);
}

/** Merges trace attributes (updateTrace(), the `trace` option); returns the keys that were set. */
export function mergeTrace(into: TraceAttributes, source: unknown, warn: (d: string) => void): string[] {
  return merge(into as Record<string, unknown>, source, TRACE_KEYS, 'trace', warn);
}

/** Client-wide attribute defaults. */
export interface SpanDefaults {
  environment?: string;
  release?: string;
  version?: string;
}

/**
 * The one immutable OTLP span of an ended observation. Trace attributes go on every span; the trace's input and
 * output fill the root's own when it has none (Langfuse shows the root observation's I/O as the trace's and drops
 * `langfuse.trace.input/output` on the OTLP path). `version` is the observation's, else the trace's, else the
 * client's; `release` the trace's, else the client's; `environment` the observation's, else the client's.
 */
export function buildSpan(s: ObservationState, endMs: number, defaults: SpanDefaults, enc: Encoder, traceKv: OtlpKeyValue[]): OtlpSpan {
  const a = s.attrs;
  const t = s.trace;
  const attributes: OtlpKeyValue[] = [{ key: 'langfuse.observation.type', value: { stringValue: s.type } }];
  for (const kv of traceKv) attributes.push(kv);
  const p = s.prop;
  if (p !== undefined && p.kv.length > 0) {
    // Explicit trace attributes (the `trace` option, updateTrace()) win over propagated ones, key by key.
    if (traceKv.length === 0) for (const kv of p.kv) attributes.push(kv);
    else {
      const own = new Set(traceKv.map((kv) => kv.key));
      for (const kv of p.kv) if (!own.has(kv.key)) attributes.push(kv);
    }
  }
  if (s.appRoot) attributes.push({ key: 'langfuse.internal.is_app_root', value: { boolValue: true } });
  const add = (key: string, value: unknown) => {
    const kv = attr(key, value);
    if (kv !== undefined) attributes.push(kv);
  };
  // An empty environment, release or version means "not set" (Langfuse would store an empty string).
  add('langfuse.environment', stringValue('environment', a.environment || p?.a.environment || defaults.environment || undefined, enc));
  add('langfuse.release', stringValue('trace.release', t.attrs.release || defaults.release || undefined, enc));
  add('langfuse.version', stringValue('version', a.version || p?.a.version || t.attrs.version || defaults.version || undefined, enc));
  const root = s.parentSpanId === undefined;
  for (const io of ['input', 'output'] as const) {
    const key = 'langfuse.observation.' + io;
    if (a[io] !== undefined) {
      add(key, ioText(io, a[io], enc));
      if (root && t.attrs[io] !== undefined) enc.warn(`trace.${io}: the root observation has its own ${io}, which Langfuse shows as the trace's; not sent`);
    } else if (root) add(key, ioText(`trace.${io}`, t.attrs[io], enc));
  }
  try {
    observationAttributes(attributes, s.type, a, enc);
  } catch {
    enc.warn('attributes: unreadable, some dropped');
  }

  const span: OtlpSpan = {
    traceId: s.traceId,
    spanId: s.id,
    name: s.name,
    kind: 1,
    startTimeUnixNano: unixNano(s.start),
    endTimeUnixNano: unixNano(endMs),
    attributes,
  };
  if (s.parentSpanId !== undefined) span.parentSpanId = s.parentSpanId;
  if (a.level === 'ERROR') {
    const message = stringValue('statusMessage', a.statusMessage, enc);
    span.status = message === undefined ? { code: 2 } : { code: 2, message };
  } else if (s.failed !== undefined) span.status = { code: 2, message: stringValue('statusMessage', s.failed, enc) ?? '' };
  return span;
}

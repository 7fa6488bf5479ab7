import { attr, type OtlpKeyValue } from '../wire/otlp';
import { MARKER, SURROGATE, toText } from './json';
import { isoTime, toEpochMs } from './time';
import type { ObservationAttributes, ObservationType, TraceAttributes } from './types';

/** Most metadata keys kept per observation and per trace; the rest are dropped with a warning. */
export const MAX_METADATA_KEYS = 200;

/** What attribute mapping needs at end(): the size limit, the mask and where to report replaced values. */
export interface Encoder {
  maxBytes: number;
  mask?: (params: { data: unknown }) => unknown;
  /** `detail` starts with the field, e.g. `output: circular reference`. */
  warn(detail: string): void;
}

/** Langfuse's four levels (`langfuse.observation.level`); the relay checks pages' spans against them too. */
export const LEVELS: readonly string[] = ['DEBUG', 'DEFAULT', 'WARNING', 'ERROR'];

/** Types that carry model, usage, cost and prompt (the Langfuse SDKs' generation and embedding). */
export function isGenerationLike(type: ObservationType): boolean {
  return type === 'generation' || type === 'embedding';
}

function push(out: OtlpKeyValue[], kv: OtlpKeyValue | undefined): void {
  if (kv !== undefined) out.push(kv);
}

/** Runs the host's mask on one value; a mask that throws replaces the value with a marker. */
export function masked(field: string, value: unknown, enc: Encoder): unknown {
  if (enc.mask === undefined || value === undefined) return value;
  try {
    return enc.mask({ data: value });
  } catch {
    enc.warn(`${field}: mask threw, value replaced by a marker`);
    return MARKER.maskFailed;
  }
}

/** A value as attribute text (string as is, else JSON), its problems reported under `field`. */
export function textValue(field: string, value: unknown, enc: Encoder): string | undefined {
  const { text, problems } = toText(value, enc.maxBytes);
  for (const problem of problems) enc.warn(`${field}: ${problem}`);
  return text;
}

/** A field that must be a string: numbers and booleans are written as text, anything else dropped with a warning. */
export function stringValue(field: string, value: unknown, enc: Encoder): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && value.length * 3 <= enc.maxBytes && !SURROGATE.test(value)) return value; // the common case
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    enc.warn(`${field}: not a string, dropped`);
    return undefined;
  }
  return textValue(field, String(value), enc);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Copies at most MAX_METADATA_KEYS keys of `source` into `into` (later keys win); a non-object is kept under the key
 * `value`. A getter that throws leaves a marker. Reports what it had to drop under `field`.
 */
export function mergeMetadata(field: string, into: Record<string, unknown>, source: unknown, warn: (detail: string) => void): void {
  if (!isRecord(source)) {
    into.value = source;
    return;
  }
  let keys: string[];
  try {
    keys = Object.keys(source);
  } catch {
    warn(`${field}: unreadable object, replaced by a marker`);
    into.value = MARKER.unreadable;
    return;
  }
  let dropped = 0;
  let count = 0;
  for (const _ in into) count++;
  for (const key of keys) {
    if (!(key in into)) {
      if (count >= MAX_METADATA_KEYS) {
        dropped++;
        continue;
      }
      count++;
    }
    try {
      into[key] = source[key];
    } catch {
      warn(`${field}.${key}: getter threw, value replaced by a marker`);
      into[key] = MARKER.unreadable;
    }
  }
  if (dropped > 0) warn(`${field}: ${dropped} keys over the limit of ${MAX_METADATA_KEYS} dropped`);
}

/**
 * Masked metadata as an object of at most MAX_METADATA_KEYS keys, or undefined. A small plain object is used as it
 * is; anything else is copied into a null-prototype object (so a `__proto__` key stays data).
 */
function metadataObject(field: string, value: unknown, enc: Encoder): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  const data = masked(field, value, enc);
  if (isRecord(data)) {
    try {
      if (Object.keys(data).length <= MAX_METADATA_KEYS) return data;
    } catch {
      /* a hostile Proxy: the copy below reports it */
    }
  }
  const out: Record<string, unknown> = Object.create(null);
  mergeMetadata(field, out, data, enc.warn);
  return out;
}

/** Attributes every span of one trace carries (name, user, session, tags, public, metadata by key). */
export function traceAttributes(trace: TraceAttributes, enc: Encoder): OtlpKeyValue[] {
  const out: OtlpKeyValue[] = [];
  push(out, attr('langfuse.trace.name', stringValue('trace.name', trace.name, enc)));
  push(out, attr('user.id', stringValue('trace.userId', trace.userId, enc)));
  push(out, attr('session.id', stringValue('trace.sessionId', trace.sessionId, enc)));
  if (trace.tags !== undefined) {
    const kept: string[] = [];
    try {
      const tags = Array.isArray(trace.tags) ? trace.tags.filter((t) => typeof t === 'string') : [];
      if (!Array.isArray(trace.tags) || tags.length !== trace.tags.length) enc.warn('trace.tags: entries that are not strings dropped');
      for (const tag of tags) {
        const text = textValue('trace.tags', tag, enc);
        if (text !== undefined) kept.push(text);
      }
    } catch {
      enc.warn('trace.tags: unreadable, dropped');
    }
    push(out, attr('langfuse.trace.tags', kept));
  }
  if (trace.public !== undefined) {
    if (typeof trace.public === 'boolean') push(out, attr('langfuse.trace.public', trace.public));
    else enc.warn('trace.public: not a boolean, dropped');
  }
  const metadata = metadataObject('trace.metadata', trace.metadata, enc);
  if (metadata) {
    for (const key in metadata) {
      push(out, attr('langfuse.trace.metadata.' + key, textValue(`trace.metadata.${key}`, metadata[key], enc)));
    }
  }
  return out;
}

/** Input or output as attribute text, masked. */
export function ioText(field: string, value: unknown, enc: Encoder): string | undefined {
  return value === undefined ? undefined : textValue(field, masked(field, value, enc), enc);
}

function numbers(field: string, value: unknown, integers: boolean, enc: Encoder): Record<string, number> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) {
    enc.warn(`${field}: not an object, dropped`);
    return undefined;
  }
  const out: Record<string, number> = Object.create(null);
  let any = false;
  try {
    for (const key of Object.keys(value).slice(0, MAX_METADATA_KEYS)) {
      let n: unknown;
      try {
        n = value[key];
      } catch {
        n = undefined;
      }
      const ok = typeof n === 'number' && (integers ? Number.isSafeInteger(n) && n >= 0 : Number.isFinite(n));
      if (ok) {
        out[key] = n as number;
        any = true;
      } else enc.warn(`${field}.${key}: not a ${integers ? 'non-negative integer' : 'finite number'}, dropped`);
    }
  } catch {
    enc.warn(`${field}: unreadable object, dropped`);
    return undefined;
  }
  return any ? out : undefined;
}

/**
 * The observation's own attributes (input/output come separately, they may be the trace's): metadata, level,
 * status message and, for generation-like types, model, parameters, usage, cost, completion start and prompt.
 */
export function observationAttributes(out: OtlpKeyValue[], type: ObservationType, a: ObservationAttributes, enc: Encoder): void {
  const metadata = metadataObject('metadata', a.metadata, enc);
  if (metadata) push(out, attr('langfuse.observation.metadata', textValue('metadata', metadata, enc)));
  if (a.level !== undefined) {
    if (LEVELS.includes(a.level)) push(out, attr('langfuse.observation.level', a.level));
    else enc.warn('level: not DEBUG, DEFAULT, WARNING or ERROR, dropped');
  }
  push(out, attr('langfuse.observation.status_message', stringValue('statusMessage', a.statusMessage, enc)));

  const generation = isGenerationLike(type);
  if (!generation) {
    for (const key of ['model', 'modelParameters', 'usageDetails', 'costDetails', 'completionStartTime', 'prompt'] as const) {
      if (a[key] !== undefined) enc.warn(`${key}: only generation and embedding observations carry it, dropped`);
    }
    return;
  }
  const model = stringValue('model', a.model, enc);
  push(out, attr('langfuse.observation.model.name', model));
  push(out, attr('gen_ai.request.model', model));
  if (a.modelParameters !== undefined) {
    push(out, attr('langfuse.observation.model.parameters', textValue('modelParameters', a.modelParameters, enc)));
  }
  const usage = numbers('usageDetails', a.usageDetails, true, enc);
  if (usage) {
    push(out, attr('langfuse.observation.usage_details', JSON.stringify(usage)));
    push(out, attr('gen_ai.usage.input_tokens', usage.input));
    push(out, attr('gen_ai.usage.output_tokens', usage.output));
  }
  const cost = numbers('costDetails', a.costDetails, false, enc);
  if (cost) push(out, attr('langfuse.observation.cost_details', JSON.stringify(cost)));
  if (a.completionStartTime !== undefined) {
    const ms = toEpochMs(a.completionStartTime);
    if (ms === undefined) enc.warn('completionStartTime: not a Date, epoch ms or ISO string, dropped');
    else push(out, attr('langfuse.observation.completion_start_time', isoTime(ms)));
  }
  if (a.prompt !== undefined) {
    try {
      const p = a.prompt as { name?: unknown; version?: unknown; isFallback?: unknown } | null;
      // A fallback prompt (the prompt client's default when the real one could not be fetched) is not linked, as in Langfuse.
      if (p?.isFallback === true) return;
      const name = typeof p?.name === 'string' && p.name !== '' ? stringValue('prompt.name', p.name, enc) : undefined;
      const version = p?.version;
      if (name !== undefined && Number.isSafeInteger(version)) {
        push(out, attr('langfuse.observation.prompt.name', name));
        push(out, attr('langfuse.observation.prompt.version', version));
      } else enc.warn('prompt: needs { name: string, version: integer }, dropped');
    } catch {
      enc.warn('prompt: unreadable, dropped');
    }
  }
}

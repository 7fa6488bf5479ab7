import type { Attributes, AttributeValue, HrTime, Link } from '@opentelemetry/api';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import type { OtlpSpan } from '../wire/otlp';

/** An OTLP/JSON AnyValue as OpenTelemetry attributes can carry it (the core's OtlpAnyValue plus bytes and kvlists). */
export type AnyValue =
  | { stringValue: string }
  | { intValue: string }
  | { doubleValue: number | 'NaN' | 'Infinity' | '-Infinity' }
  | { boolValue: boolean }
  | { bytesValue: string }
  | { arrayValue: { values: AnyValue[] } }
  | { kvlistValue: { values: KeyValue[] } }
  | Record<string, never>;

export interface KeyValue {
  key: string;
  value: AnyValue;
}

/** An ended OpenTelemetry span in OTLP/JSON: the core's OtlpSpan plus what OTel spans have besides. */
export interface OtelOtlpSpan extends Omit<OtlpSpan, 'attributes'> {
  attributes: KeyValue[];
  traceState?: string;
  flags?: number;
  droppedAttributesCount?: number;
  events?: { timeUnixNano: string; name: string; attributes: KeyValue[]; droppedAttributesCount?: number }[];
  droppedEventsCount?: number;
  links?: { traceId: string; spanId: string; traceState?: string; attributes: KeyValue[]; droppedAttributesCount?: number; flags: number }[];
  droppedLinksCount?: number;
}

// OTLP span flags: the low byte is the W3C trace flags; bit 8 says whether bit 9 (parent is remote) is known.
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;

function flagsOf(traceFlags: number, remote: boolean | undefined): number {
  return (traceFlags & 0xff) | HAS_IS_REMOTE | (remote ? IS_REMOTE : 0);
}

/** `[seconds, nanoseconds]` → unix nanoseconds as a decimal string (exact; no float rounding). */
export function nanos(time: HrTime): string {
  const s = Math.trunc(time[0]);
  const n = Math.trunc(time[1]);
  if (s > 0 && n >= 0 && n < 1e9) return s + String(n).padStart(9, '0');
  const total = BigInt(s) * 1_000_000_000n + BigInt(n);
  return total < 0n ? '0' : total.toString();
}

/** Bytes as base64 (OTLP/JSON's form of bytesValue), without Buffer so that it runs in Workers too. */
function base64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/**
 * One value as OTLP/JSON: strings, booleans, integers within int64 (intValue, an exact decimal string), other numbers
 * (doubleValue; NaN and ±Infinity in proto3 JSON's string form), bytes, arrays and plain objects (kvlist, what a
 * `mask` may return). Null and undefined become the empty AnyValue, which only array elements may carry.
 */
export function anyValue(value: unknown): AnyValue {
  switch (typeof value) {
    case 'string':
      return { stringValue: value };
    case 'boolean':
      return { boolValue: value };
    case 'number':
      if (Number.isSafeInteger(value)) return { intValue: String(value) };
      // An integer past 2^53 is still exact as a double: written digit for digit while it fits int64.
      if (Number.isInteger(value) && Math.abs(value) < 2 ** 63) return { intValue: BigInt(value).toString() };
      if (Number.isFinite(value)) return { doubleValue: value };
      return { doubleValue: Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity' };
    case 'bigint':
      return { intValue: value.toString() };
    case 'object': {
      if (value === null) return {};
      if (value instanceof Uint8Array) return { bytesValue: base64(value) };
      if (Array.isArray(value)) return { arrayValue: { values: value.map(anyValue) } };
      return { kvlistValue: { values: keyValues(value as Record<string, unknown>) } };
    }
    default:
      return {};
  }
}

/**
 * Attributes as a KeyValue list in key order. A key whose value is null or undefined is left out: Langfuse takes a
 * KeyValue without a value and then loses the whole batch in its worker (LANGFUSE.md).
 */
export function keyValues(attributes: Attributes | Record<string, unknown> | undefined): KeyValue[] {
  const out: KeyValue[] = [];
  if (!attributes) return out;
  for (const key of Object.keys(attributes)) {
    const value = (attributes as Record<string, AttributeValue | unknown>)[key];
    if (value === undefined || value === null || typeof value === 'function' || typeof value === 'symbol') continue;
    out.push({ key, value: anyValue(value) });
  }
  return out;
}

function eventOf(e: TimedEvent): NonNullable<OtelOtlpSpan['events']>[number] {
  const out: NonNullable<OtelOtlpSpan['events']>[number] = { timeUnixNano: nanos(e.time), name: e.name, attributes: keyValues(e.attributes) };
  if (e.droppedAttributesCount) out.droppedAttributesCount = e.droppedAttributesCount;
  return out;
}

function linkOf(l: Link): NonNullable<OtelOtlpSpan['links']>[number] {
  const out: NonNullable<OtelOtlpSpan['links']>[number] = {
    traceId: l.context.traceId,
    spanId: l.context.spanId,
    attributes: keyValues(l.attributes),
    flags: flagsOf(l.context.traceFlags, l.context.isRemote),
  };
  const state = l.context.traceState?.serialize();
  if (state) out.traceState = state;
  if (l.droppedAttributesCount) out.droppedAttributesCount = l.droppedAttributesCount;
  return out;
}

/**
 * An ended span as one OTLP/JSON span — the same fields `@opentelemetry/otlp-transformer`'s JSON serializer
 * writes, minus what carries nothing (UNSET status, empty events and links, zero drop counts) and minus
 * attributes without a value. Resource and scope are not part of it: the wire groups spans under them.
 */
export function encodeSpan(span: ReadableSpan): OtelOtlpSpan {
  const ctx = span.spanContext();
  const parent = span.parentSpanContext;
  const out: OtelOtlpSpan = {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    name: span.name,
    kind: span.kind == null ? 0 : span.kind + 1,
    startTimeUnixNano: nanos(span.startTime),
    endTimeUnixNano: nanos(span.endTime),
    attributes: keyValues(span.attributes),
    flags: flagsOf(ctx.traceFlags, parent?.isRemote),
  };
  if (parent?.spanId) out.parentSpanId = parent.spanId;
  const state = ctx.traceState?.serialize();
  if (state) out.traceState = state;
  if (span.droppedAttributesCount) out.droppedAttributesCount = span.droppedAttributesCount;
  if (span.events.length > 0) out.events = span.events.map(eventOf);
  if (span.droppedEventsCount) out.droppedEventsCount = span.droppedEventsCount;
  if (span.links.length > 0) out.links = span.links.map(linkOf);
  if (span.droppedLinksCount) out.droppedLinksCount = span.droppedLinksCount;
  if (span.status.code !== 0 || span.status.message) {
    out.status = span.status.message ? { code: span.status.code, message: span.status.message } : { code: span.status.code };
  }
  return out;
}

// ---- the user's mask, applied to the encoded span (this module builds the span and alone changes it) ----

/** The attributes Langfuse's processor masks (exact keys). */
export const MASKED_KEYS = new Set([
  'langfuse.observation.input',
  'langfuse.trace.input',
  'langfuse.observation.output',
  'langfuse.trace.output',
  'langfuse.observation.metadata',
  'langfuse.trace.metadata',
]);

/** What a mask that throws leaves of the value (Langfuse's words). */
export const MASK_FAILED = '<fully masked due to failed mask function>';

/**
 * Applies `mask` to the masked attributes of an encoded span, in place. Returns undefined when every mask call
 * was synchronous, or a promise that settles (never rejects) once the async ones have been applied. A mask that
 * returns null or undefined removes the attribute (an attribute without a value would cost the whole batch).
 */
export function applyMask(
  span: OtelOtlpSpan,
  source: Record<string, unknown>,
  mask: (params: { data: unknown }) => unknown,
  warn: (message: string) => void,
): Promise<void> | undefined {
  let waits: Promise<void>[] | undefined;
  let removed = false;
  const set = (index: number, value: unknown) => {
    if (value === undefined || value === null) removed = true;
    span.attributes[index]!.value = value === undefined || value === null ? {} : anyValue(value);
  };
  const prune = () => {
    if (removed) span.attributes = span.attributes.filter((kv) => Object.keys(kv.value).length > 0);
  };
  const failed = (index: number, error: unknown) => {
    warn(`mask failed on ${span.attributes[index]!.key} of span ${span.spanId}, value fully masked: ${String(error)}`);
    span.attributes[index]!.value = { stringValue: MASK_FAILED };
  };
  for (let i = 0; i < span.attributes.length; i++) {
    const key = span.attributes[i]!.key;
    if (!MASKED_KEYS.has(key)) continue;
    let result: unknown;
    try {
      result = mask({ data: source[key] });
    } catch (error) {
      failed(i, error);
      continue;
    }
    if (result !== null && typeof (result as Promise<unknown> | undefined)?.then === 'function') {
      (waits ??= []).push(Promise.resolve(result).then((value) => set(i, value), (error) => failed(i, error)));
    } else {
      set(i, result);
    }
  }
  if (!waits) return void prune();
  return Promise.all(waits).then(prune);
}

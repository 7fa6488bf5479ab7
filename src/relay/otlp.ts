// OTLP/JSON from pages: the ExportTraceServiceRequest schema (zod, with a hand-written walk for attribute values and
// Langfuse's own attributes), the dedup key of a span, and cutting an accepted request into bodies.
import * as z from 'zod/mini';
import { utf8Length } from '../core/encode';
import { LEVELS } from '../trace/attributes';
import { OBSERVATION_TYPES } from '../trace/start-options';
import { firstIssue } from './issues';
import type { RelayLimits } from './options';

/** An accepted OTLP/JSON ExportTraceServiceRequest: only the fields the relay knows, unknown keys stripped. */
export interface OtlpRequest {
  resourceSpans: { resource?: unknown; schemaUrl?: string; scopeSpans: { scope?: unknown; schemaUrl?: string; spans: PageSpan[] }[] }[];
}
/** A page's span as accepted: the ids the relay keys on, its other fields as validated (not wire/otlp's OtlpSpan, which the client builds). */
interface PageSpan {
  traceId: string;
  spanId: string;
  [field: string]: unknown;
}

/** The dedup key of a span: trace id and span id, lower case. */
export const spanKey = (s: { traceId: string; spanId: string }) => `${s.traceId.toLowerCase()}:${s.spanId.toLowerCase()}`;

/**
 * Validates an OTLP/JSON body. The whole request is refused on the first problem (Langfuse refuses the whole
 * batch too), with a message naming where: `resourceSpans[0].scopeSpans[0].spans[3].traceId: …`.
 */
export function parseOtlp(json: unknown, limits: RelayLimits): { ok: true; request: OtlpRequest; keys: string[] } | { ok: false; message: string } {
  const result = requestSchema(limits).safeParse(json);
  if (!result.success) return { ok: false, message: firstIssue(result.error.issues, json) };
  const request = result.data as OtlpRequest;
  const keys: string[] = [];
  for (const rs of request.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) keys.push(spanKey(s));
  if (keys.length > limits.maxSpans) return { ok: false, message: `resourceSpans: ${keys.length} spans, more than ${limits.maxSpans} in one request` };
  return { ok: true, request, keys };
}

/** The request with only the first span of each key in `keep` (empty scopes and resources left out). */
export function filterOtlp(request: OtlpRequest, keep: ReadonlySet<string>): OtlpRequest {
  const left = new Set(keep);
  const resourceSpans: OtlpRequest['resourceSpans'] = [];
  for (const rs of request.resourceSpans) {
    const scopeSpans = rs.scopeSpans
      .map((ss) => ({ ...ss, spans: ss.spans.filter((s) => left.delete(spanKey(s))) }))
      .filter((ss) => ss.spans.length > 0);
    if (scopeSpans.length > 0) resourceSpans.push({ ...rs, scopeSpans });
  }
  return { resourceSpans };
}

/**
 * Cuts the request into bodies of at most `maxBytes` (UTF-8), each a valid ExportTraceServiceRequest, spans in
 * order; undefined when one span with its resource and scope is larger than that on its own.
 */
export function chunkOtlp(request: OtlpRequest, maxBytes: number): { body: string; keys: string[] }[] | undefined {
  const chunks: { body: string; keys: string[] }[] = [];
  let keys: string[] = [];
  let bytes = 32;
  let group = '';
  const flush = () => {
    if (keys.length > 0) chunks.push({ body: JSON.stringify(filterOtlp(request, new Set(keys))), keys });
    keys = [];
    bytes = 32;
    group = '';
  };
  for (let ri = 0; ri < request.resourceSpans.length; ri++) {
    const rs = request.resourceSpans[ri]!;
    const resourceBytes = utf8Length(JSON.stringify(rs.resource ?? null)) + 64;
    for (let si = 0; si < rs.scopeSpans.length; si++) {
      const ss = rs.scopeSpans[si]!;
      const wrapper = resourceBytes + utf8Length(JSON.stringify(ss.scope ?? null)) + 64;
      for (const span of ss.spans) {
        const size = utf8Length(JSON.stringify(span)) + 1;
        if (32 + wrapper + size > maxBytes) return undefined;
        const here = `${ri}/${si}`;
        const extra = group === here ? 0 : wrapper;
        if (bytes + extra + size > maxBytes) flush();
        bytes += (group === here ? 0 : wrapper) + size;
        group = here;
        keys.push(spanKey(span));
      }
    }
  }
  flush();
  return chunks.every((c) => utf8Length(c.body) <= maxBytes) ? chunks : undefined;
}

/** A zod check over a part the hand-written walk below (checkAttributes) validates (AnyValue trees are recursive and depth-bounded). */
function attributes(limits: RelayLimits, langfuse: boolean) {
  return z.optional(
    z.custom<KeyValue[]>((v) => v === undefined || Array.isArray(v), { error: 'must be a list of KeyValue' }).check(
      z.superRefine((v, ctx) => {
        const p = checkAttributes(v, limits, [], langfuse);
        if (p) ctx.addIssue({ code: 'custom', message: p.message, path: p.path, input: v });
      }),
    ),
  );
}

const hex = (n: number) =>
  z.string({ error: `must be ${n} hex characters` }).check(
    z.refine((v) => v.length === n && /^[0-9a-fA-F]+$/.test(v) && !/^0+$/.test(v), { error: `must be ${n} hex characters, not all zero` }),
  );
const nanos = z.union([z.string(), z.number()], { error: 'must be unix nanoseconds as a decimal string or number' }).check(
  z.refine((v) => (typeof v === 'number' ? Number.isSafeInteger(v) && v >= 0 : /^\d{1,20}$/.test(v)), {
    error: 'must be unix nanoseconds as a decimal string or number',
  }),
);
const count = z.optional(z.number().check(z.refine((v) => Number.isInteger(v) && v >= 0, { error: 'must be a non-negative integer' })));
const text = (limits: RelayLimits) =>
  z.string({ error: 'must be a string' }).check(z.refine((v) => v.length <= limits.maxValueChars, { error: `is longer than ${limits.maxValueChars} characters` }));
const list = <T extends z.core.$ZodType>(item: T, max: number) =>
  z.array(item, { error: 'must be a list' }).check(z.refine((v) => v.length <= max, { error: `has more than ${max} items` }));

const schemas = new Map<string, z.ZodMiniType>();

/** The zod schema of an ExportTraceServiceRequest under these limits (cached per limits). */
function requestSchema(limits: RelayLimits): z.ZodMiniType {
  const cacheKey = JSON.stringify(limits);
  const cached = schemas.get(cacheKey);
  if (cached) return cached;
  const span = z.object({
    traceId: hex(32),
    spanId: hex(16),
    parentSpanId: z.optional(z.union([z.literal(''), hex(16)], { error: 'must be 16 hex characters or empty' })),
    traceState: z.optional(z.string()),
    flags: count,
    name: text(limits),
    kind: z.optional(z.number().check(z.refine((v) => Number.isInteger(v) && v >= 0 && v <= 5, { error: 'must be a SpanKind 0–5' }))),
    startTimeUnixNano: nanos,
    endTimeUnixNano: nanos,
    attributes: attributes(limits, true),
    droppedAttributesCount: count,
    events: z.optional(
      list(z.object({ timeUnixNano: nanos, name: text(limits), attributes: attributes(limits, false), droppedAttributesCount: count }, { error: 'must be a span event object' }), 128),
    ),
    droppedEventsCount: count,
    links: z.optional(
      list(z.object({ traceId: hex(32), spanId: hex(16), traceState: z.optional(z.string()), attributes: attributes(limits, false), droppedAttributesCount: count, flags: count }, { error: 'must be a span link object' }), 128),
    ),
    droppedLinksCount: count,
    status: z.optional(
      z.object({
        code: z.optional(z.number().check(z.refine((v) => v === 0 || v === 1 || v === 2, { error: 'must be 0, 1 or 2' }))),
        message: z.optional(text(limits)),
      }),
    ),
  }, { error: 'must be a span object' });
  const schema = z.object({
    resourceSpans: list(
      z.object({
        resource: z.optional(z.object({ attributes: attributes(limits, false), droppedAttributesCount: count })),
        schemaUrl: z.optional(z.string()),
        scopeSpans: list(
          z.object({
            scope: z.optional(z.object({ name: z.optional(z.string()), version: z.optional(z.string()), attributes: attributes(limits, false), droppedAttributesCount: count })),
            schemaUrl: z.optional(z.string()),
            spans: list(span, limits.maxSpans),
          }),
          limits.maxSpans,
        ),
      }),
      limits.maxSpans,
    ),
  }, { error: 'must be an ExportTraceServiceRequest object { resourceSpans: [...] }' });
  schemas.set(cacheKey, schema);
  return schema;
}

type AnyValue = Record<string, unknown>;
type KeyValue = { key: string; value: AnyValue };
type Problem = { path: (string | number)[]; message: string };

const VALUE_KINDS = ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'];

/** Checks one AnyValue: exactly one kind, scalars of the right JSON type, strings and lists bounded, nesting ≤ maxDepth. */
function checkValue(value: unknown, depth: number, limits: RelayLimits, path: (string | number)[]): Problem | undefined {
  if (value === undefined || value === null) return { path, message: 'a KeyValue without a value (Langfuse accepts such a batch, then drops it)' };
  if (typeof value !== 'object' || Array.isArray(value)) return { path, message: 'must be an AnyValue object' };
  const kinds = Object.keys(value).filter((k) => VALUE_KINDS.includes(k));
  if (kinds.length !== 1) {
    return { path, message: kinds.length === 0 ? 'a KeyValue without a value (an AnyValue needs stringValue, intValue, doubleValue, boolValue, arrayValue, kvlistValue or bytesValue)' : 'an AnyValue must have exactly one value' };
  }
  const kind = kinds[0]!;
  const v = (value as AnyValue)[kind];
  const at = [...path, kind];
  switch (kind) {
    case 'stringValue':
    case 'bytesValue':
      if (typeof v !== 'string') return { path: at, message: 'must be a string' };
      if (v.length > limits.maxValueChars) return { path: at, message: `is longer than ${limits.maxValueChars} characters` };
      return undefined;
    case 'boolValue':
      return typeof v === 'boolean' ? undefined : { path: at, message: 'must be true or false' };
    case 'intValue':
      return (typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'string' && /^-?\d{1,19}$/.test(v))
        ? undefined
        : { path: at, message: 'must be an integer (number or decimal string)' };
    case 'doubleValue':
      return (typeof v === 'number' && Number.isFinite(v)) || v === 'NaN' || v === 'Infinity' || v === '-Infinity'
        ? undefined
        : { path: at, message: 'must be a number' };
    default: {
      if (depth >= limits.maxDepth) return { path: at, message: `nests deeper than ${limits.maxDepth} levels` };
      const list = (v as { values?: unknown } | null)?.values;
      if (v === null || typeof v !== 'object' || (list !== undefined && !Array.isArray(list))) return { path: at, message: 'must be { values: [...] }' };
      const items = (list ?? []) as unknown[];
      if (items.length > limits.maxAttributes) return { path: [...at, 'values'], message: `has more than ${limits.maxAttributes} items` };
      for (let i = 0; i < items.length; i++) {
        const p = kind === 'arrayValue'
          ? checkValue(items[i], depth + 1, limits, [...at, 'values', i])
          : checkKeyValue(items[i], depth + 1, limits, [...at, 'values', i]);
        if (p) return p;
      }
      return undefined;
    }
  }
}

function checkKeyValue(kv: unknown, depth: number, limits: RelayLimits, path: (string | number)[]): Problem | undefined {
  if (kv === null || typeof kv !== 'object' || Array.isArray(kv)) return { path, message: 'must be a KeyValue { key, value }' };
  const { key, value } = kv as { key?: unknown; value?: unknown };
  if (typeof key !== 'string' || key === '') return { path: [...path, 'key'], message: 'must be a non-empty string' };
  if (key.length > 1024) return { path: [...path, 'key'], message: 'is longer than 1024 characters' };
  return checkValue(value, depth, limits, [...path, 'value']);
}

const str = (v: AnyValue) => (typeof v.stringValue === 'string' ? v.stringValue : undefined);
function jsonObjectOf(v: AnyValue, ok: (n: unknown) => boolean): boolean {
  const text = str(v);
  if (text === undefined) return false;
  try {
    const o = JSON.parse(text);
    return o !== null && typeof o === 'object' && !Array.isArray(o) && Object.values(o).every(ok);
  } catch {
    return false;
  }
}

/** What Langfuse's converter expects of its own attributes; a wrong type would be stored wrongly or dropped. */
const LANGFUSE_RULES: Record<string, [(v: AnyValue) => boolean, string]> = {
  'langfuse.observation.type': [(v) => (OBSERVATION_TYPES as readonly string[]).includes(str(v) ?? ''), `must be a stringValue, one of ${OBSERVATION_TYPES.join(', ')}`],
  'langfuse.observation.level': [(v) => LEVELS.includes(str(v) ?? ''), `must be a stringValue, one of ${LEVELS.join(', ')}`],
  'langfuse.observation.usage_details': [
    (v) => jsonObjectOf(v, (n) => typeof n === 'number' && Number.isInteger(n) && n >= 0),
    'must be a stringValue with a JSON object of non-negative integers',
  ],
  'langfuse.observation.cost_details': [
    (v) => jsonObjectOf(v, (n) => typeof n === 'number' && Number.isFinite(n) && n >= 0),
    'must be a stringValue with a JSON object of non-negative numbers',
  ],
  'langfuse.observation.completion_start_time': [(v) => !Number.isNaN(Date.parse(str(v) ?? '')), 'must be a stringValue with an ISO 8601 time'],
  'langfuse.trace.public': [(v) => typeof v.boolValue === 'boolean', 'must be a boolValue'],
};

/**
 * Checks a list of KeyValue: at most maxAttributes, each key and AnyValue bounded; with `langfuse`, Langfuse's own
 * attributes must also have the type its converter expects. Returns the first problem, if any.
 */
function checkAttributes(list: unknown, limits: RelayLimits, path: (string | number)[], langfuse: boolean): Problem | undefined {
  if (list === undefined) return undefined;
  if (!Array.isArray(list)) return { path, message: 'must be a list of KeyValue' };
  if (list.length > limits.maxAttributes) return { path, message: `has ${list.length} attributes, more than ${limits.maxAttributes}` };
  for (let i = 0; i < list.length; i++) {
    const p = checkKeyValue(list[i], 0, limits, [...path, i]);
    if (p) return p;
    if (!langfuse) continue;
    const { key, value } = list[i] as KeyValue;
    const rule = LANGFUSE_RULES[key];
    if (rule && !rule[0](value)) return { path: [...path, i, 'value'], message: `${key} ${rule[1]}` };
  }
  return undefined;
}

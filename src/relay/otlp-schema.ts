import * as z from 'zod/mini';
import type { RelayLimits } from './options';
import { checkAttributes, type KeyValue } from './otlp-attributes';

/** A zod check over a part the hand-written walk in otlp-attributes.ts validates (AnyValue trees are recursive and depth-bounded). */
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
export function requestSchema(limits: RelayLimits): z.ZodMiniType {
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

// Zod schema of an OTLP/HTTP JSON ExportTraceServiceRequest, and the checks for batches Langfuse would lose.
import * as z from 'zod';

/** Most spans accepted in one export request. */
export const MAX_BATCH_SPANS = 10_000;

/** Unix nanoseconds: a decimal string (OTLP/JSON's form for 64-bit integers) or a non-negative integer. */
const unixNano = z.union([z.string().regex(/^\d{1,20}$/, 'expected a decimal string of unix nanoseconds'), z.int().nonnegative()]);

/**
 * An AnyValue. Its shape is left open here (Langfuse stores any other value as its JSON text); a KeyValue
 * without one is caught by findLostBatchProblem, so that the message can say why it is refused.
 */
const anyValue = z.looseObject({});
const keyValue = z.looseObject({ key: z.string(), value: anyValue.optional() });
const attributes = z.array(keyValue).optional();

const spanEvent = z.looseObject({ timeUnixNano: unixNano.optional(), name: z.string().optional(), attributes });

/** One span. Ids are lower-case hex as OTLP/JSON writes them (stricter than Langfuse, which takes any string). */
export const spanSchema = z.looseObject({
  traceId: z.string().regex(/^[0-9a-f]{32}$/, 'expected 32 lower-case hex digits'),
  spanId: z.string().regex(/^[0-9a-f]{16}$/, 'expected 16 lower-case hex digits'),
  parentSpanId: z.union([z.literal(''), z.string().regex(/^[0-9a-f]{16}$/, 'expected 16 lower-case hex digits or ""')]).optional(),
  name: z.string(),
  kind: z.union([z.int(), z.string()]).optional(),
  startTimeUnixNano: unixNano,
  endTimeUnixNano: unixNano,
  attributes,
  status: z.looseObject({ code: z.union([z.int(), z.string()]).optional(), message: z.string().optional() }).optional(),
  // Elements are checked by findLostBatchProblem (a null one is the case Langfuse loses).
  events: z.array(z.unknown()).optional(),
});

/** `{ resourceSpans: [{ resource?, scopeSpans: [{ scope?, spans: [] }] }] }`; spans themselves are checked one by one. */
export const exportRequestSchema = z.looseObject({
  resourceSpans: z.array(
    z.looseObject({
      resource: z.looseObject({ attributes }).optional(),
      scopeSpans: z.array(
        z.looseObject({
          scope: z.looseObject({ name: z.string().optional(), version: z.string().optional() }).optional(),
          spans: z.array(z.unknown()),
        }),
      ),
    }),
  ),
});

/**
 * Finds what Langfuse's route would accept and its worker would then drop with the whole batch: a KeyValue
 * without `value` (span, event or resource attributes) or an event that is not an object.
 * @param {{ resource?: { attributes?: { key: string, value?: unknown }[] } }} resourceSpan
 * @param {{ attributes?: { key: string, value?: unknown }[], events?: unknown[] }} span
 * @returns {string | null} the problem, or null
 */
export function findLostBatchProblem(resourceSpan, span) {
  const missing = (/** @type {{ key: string, value?: unknown }[] | undefined} */ list) => list?.find((kv) => kv.value == null);
  const inResource = missing(resourceSpan.resource?.attributes);
  if (inResource) return `resource attribute '${inResource.key}' has no value`;
  const inSpan = missing(span.attributes);
  if (inSpan) return `attribute '${inSpan.key}' has no value`;
  for (const [i, event] of (span.events ?? []).entries()) {
    const parsed = spanEvent.safeParse(event);
    if (!parsed.success) return `events.${i} is not a span event (${event === null ? 'null' : typeof event})`;
    const bad = missing(parsed.data.attributes);
    if (bad) return `events.${i} attribute '${bad.key}' has no value`;
  }
  return null;
}

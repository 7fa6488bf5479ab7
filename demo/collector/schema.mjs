// Zod schemas for the collector: the ingestion envelope, one event, and a fault.
import * as z from 'zod';

/** Largest number of events accepted in one batch. */
export const MAX_BATCH_EVENTS = 10_000;

/** `{ batch: object[] (≤ 10 000), metadata?: object }`; unknown top-level keys are ignored. */
export const envelopeSchema = z.object({
  batch: z.array(z.looseObject({})).max(MAX_BATCH_EVENTS),
  metadata: z.looseObject({}).optional(),
});

/** One ingestion event: `{ id, type, timestamp (ISO 8601), body (any JSON) }`. */
export const eventSchema = z.object({
  id: z.string().min(1).max(200),
  type: z.string().min(1).max(200),
  timestamp: z.iso.datetime({ offset: true }),
  // The body was produced by JSON.parse, so it is JSON already; it only has to be present.
  body: z.unknown().refine((v) => v !== undefined, { message: 'Invalid input: expected any JSON value, received undefined' }),
});

const times = z.int().positive().optional();
const httpStatus = z.int().min(100).max(599);
/** Which route a fault applies to; absent means both. */
const path = z.enum(['otlp', 'ingestion', 'any']).optional();
/** Modes that only make sense for spans: their `path` may only be 'otlp' (or absent, meaning 'otlp'). */
const otlpPath = z.enum(['otlp']).optional();

/**
 * A fault mode (see faults.mjs). Unknown keys are refused so typos surface. `path` picks the route: 'otlp',
 * 'ingestion' or 'any' (default). `partial-success` and `reject-span` apply to the OTLP route only.
 */
export const faultSchema = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('none'), times, path }),
  z.strictObject({ mode: z.literal('down'), times, path }),
  z.strictObject({
    mode: z.literal('status'),
    status: httpStatus,
    retryAfter: z
      .union([z.string().regex(/^[\x20-\x7e]+$/, 'printable ASCII'), z.number().nonnegative()])
      .transform(String)
      .optional(),
    delayMs: z.int().min(0).max(600_000).optional(),
    times,
    path,
  }),
  z.strictObject({ mode: z.literal('slow'), delayMs: z.int().min(0).max(600_000), times, path }),
  z.strictObject({ mode: z.literal('fail-ids'), ids: z.record(z.string().min(1), httpStatus), times, path }),
  z.strictObject({
    mode: z.literal('partial-success'),
    rejectedSpans: z.int().positive(),
    errorMessage: z.string().max(1000).optional(),
    times,
    path: otlpPath,
  }),
  z.strictObject({ mode: z.literal('reject-span'), match: z.string().min(1), times, path: otlpPath }),
]);

/**
 * Formats a zod error as `path: message; path: message`, naming the path of each issue.
 * @param {z.ZodError} error
 * @param {number} [maxIssues] at most this many issues are listed
 * @returns {string}
 */
export function formatZodError(error, maxIssues = 5) {
  const parts = error.issues.slice(0, maxIssues).map((issue) => {
    const path = issue.path.map(String).join('.');
    return `${path || '(root)'}: ${issue.message}`;
  });
  if (error.issues.length > maxIssues) parts.push(`… ${error.issues.length - maxIssues} more`);
  return parts.join('; ');
}

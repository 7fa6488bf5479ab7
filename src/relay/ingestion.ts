import * as z from 'zod/mini';
import type { RelayLimits } from './options';
import { utf8Length } from '../core/encode';
import { firstIssue } from './issues';

/** One ingestion event as forwarded: the envelope fields Langfuse reads; the body as validated. */
export interface IngestionEvent {
  id: string;
  type: string;
  timestamp: string;
  body: Record<string, unknown>;
  metadata?: unknown;
}

/** A per-event refusal, in the shape of Langfuse's 207 `errors` entries. */
export interface EventError {
  id: string;
  status: number;
  message: string;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

const envelope = z.object({
  id: z.string({ error: 'must be a string of 1–800 characters' }).check(
    z.refine((v) => v.length >= 1 && v.length <= 800, { error: 'must be a string of 1–800 characters' }),
  ),
  type: z.string({ error: 'must be an event type string' }),
  timestamp: z.string({ error: 'must be an ISO 8601 time with Z or ±hh:mm' }).check(
    z.refine((v) => ISO.test(v) && !Number.isNaN(Date.parse(v)), { error: 'must be an ISO 8601 time with Z or ±hh:mm' }),
  ),
  body: z.custom<Record<string, unknown>>((v) => v !== null && typeof v === 'object' && !Array.isArray(v), { error: 'must be an object' }),
  metadata: z.optional(z.unknown()),
});

const optionalId = z.optional(z.nullable(z.string({ error: 'must be a string' })));
const DATA_TYPES = ['NUMERIC', 'BOOLEAN', 'CATEGORICAL', 'TEXT'];

/** Langfuse's score rules (LANGFUSE.md): a name, exactly one target, observationId only with traceId, value per dataType. */
const scoreBody = z
  .looseObject({
    id: optionalId,
    name: z.string({ error: 'must be a non-empty string' }).check(z.refine((v) => v.trim() !== '', { error: 'must be a non-empty string' })),
    value: z.union([z.number().check(z.refine(Number.isFinite, { error: 'must be finite' })), z.string()], { error: 'must be a number or a string' }),
    traceId: optionalId,
    sessionId: optionalId,
    datasetRunId: optionalId,
    observationId: optionalId,
    dataType: z.optional(z.custom<string>((v) => DATA_TYPES.includes(v as string), { error: `must be one of ${DATA_TYPES.join(', ')}` })),
    comment: z.optional(z.nullable(z.string({ error: 'must be a string' }))),
    environment: z.optional(z.string({ error: 'must be a string' })),
  })
  .check(
    z.superRefine((b, ctx) => {
      const targets = [b.traceId, b.sessionId, b.datasetRunId].filter((t) => t != null && t !== '').length;
      if (targets !== 1) ctx.addIssue({ code: 'custom', message: 'a score needs exactly one of traceId, sessionId, datasetRunId', path: [], input: b });
      if (b.observationId != null && (b.traceId == null || b.traceId === '')) {
        ctx.addIssue({ code: 'custom', message: 'observationId needs traceId', path: ['observationId'], input: b });
      }
      const v = b.value;
      const bad = (message: string) => ctx.addIssue({ code: 'custom', message, path: ['value'], input: v });
      if (b.dataType === 'NUMERIC' && typeof v !== 'number') bad('a NUMERIC score needs a number');
      if (b.dataType === 'BOOLEAN' && v !== 0 && v !== 1) bad('a BOOLEAN score needs 0 or 1');
      if (b.dataType === 'CATEGORICAL' && typeof v !== 'string') bad('a CATEGORICAL score needs a string');
      if (b.dataType === 'TEXT' && (typeof v !== 'string' || v.length < 1 || v.length > 500)) bad('a TEXT score needs a string of 1–500 characters');
    }),
  );

/** Body rules per event type; types without rules need an object body only. */
const BODY_RULES: Record<string, z.ZodMiniType> = { 'score-create': scoreBody };

/**
 * Validates a Langfuse ingestion envelope `{ batch, metadata? }`. A malformed envelope (not an object, no batch
 * array, an item that is not an object with a string id, too many events) refuses the whole request; a bad event
 * or one of a type pages may not send is refused on its own and the rest goes on.
 */
export function parseIngestion(
  json: unknown,
  allowTypes: readonly string[],
  limits: RelayLimits,
): { ok: true; events: IngestionEvent[]; errors: EventError[]; metadata?: unknown } | { ok: false; message: string } {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return { ok: false, message: 'body: must be an object { batch: [...] }' };
  const { batch, metadata } = json as { batch?: unknown; metadata?: unknown };
  if (!Array.isArray(batch)) return { ok: false, message: 'batch: must be a list of events' };
  if (batch.length > limits.maxEvents) return { ok: false, message: `batch: ${batch.length} events, more than ${limits.maxEvents} in one request` };
  const events: IngestionEvent[] = [];
  const errors: EventError[] = [];
  for (let i = 0; i < batch.length; i++) {
    const item = batch[i] as { id?: unknown; type?: unknown } | null;
    if (item === null || typeof item !== 'object' || typeof item.id !== 'string' || item.id === '') {
      return { ok: false, message: `batch[${i}]: must be an event object with a string id` };
    }
    const id = item.id;
    const head = envelope.safeParse(item);
    if (!head.success) {
      errors.push({ id, status: 400, message: firstIssue(head.error.issues, item, `batch[${i}]`) });
      continue;
    }
    if (!allowTypes.includes(head.data.type)) {
      errors.push({ id, status: 400, message: `batch[${i}].type: event type "${head.data.type.slice(0, 60)}" is not accepted from pages (allowed: ${allowTypes.join(', ')})` });
      continue;
    }
    const rule = BODY_RULES[head.data.type];
    let body = head.data.body;
    if (rule) {
      const checked = rule.safeParse(body);
      if (!checked.success) {
        errors.push({ id, status: 400, message: firstIssue(checked.error.issues, body, `batch[${i}].body`) });
        continue;
      }
      body = checked.data as Record<string, unknown>;
    }
    events.push({ id, type: head.data.type, timestamp: head.data.timestamp, body, ...(head.data.metadata !== undefined ? { metadata: head.data.metadata } : {}) });
  }
  return { ok: true, events, errors, metadata };
}

/** The envelope for these events. */
export function encodeIngestion(events: readonly IngestionEvent[], metadata?: unknown): string {
  return JSON.stringify(metadata === undefined ? { batch: events } : { batch: events, metadata });
}

/** Cuts events into envelopes of at most `maxBytes` each; undefined when one event alone is larger. */
export function chunkIngestion(events: readonly IngestionEvent[], metadata: unknown, maxBytes: number): { body: string; keys: string[] }[] | undefined {
  const overhead = utf8Length(encodeIngestion([], metadata));
  const chunks: { body: string; keys: string[] }[] = [];
  let group: IngestionEvent[] = [];
  let bytes = overhead;
  for (const event of events) {
    const size = utf8Length(JSON.stringify(event)) + 1;
    if (overhead + size > maxBytes) return undefined;
    if (bytes + size > maxBytes) {
      chunks.push({ body: encodeIngestion(group, metadata), keys: group.map((e) => e.id) });
      group = [];
      bytes = overhead;
    }
    group.push(event);
    bytes += size;
  }
  if (group.length > 0) chunks.push({ body: encodeIngestion(group, metadata), keys: group.map((e) => e.id) });
  return chunks;
}

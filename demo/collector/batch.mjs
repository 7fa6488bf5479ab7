// Processing one parsed ingestion payload: envelope and per-event validation, Langfuse v4's event filter and
// score rules, injected per-id failures, storage.
import { envelopeSchema, eventSchema, formatZodError } from './schema.mjs';
import { scoreRuleError } from './score-rules.mjs';
import { HttpError } from './body.mjs';

/** Event types Langfuse v4 (`events_only`) still takes on /api/public/ingestion. */
export const V4_EVENT_TYPES = ['score-create', 'sdk-log'];

/**
 * @typedef {{ id: string, status: number }} Success
 * @typedef {{ id: string | null, status: number, message: string, error?: string }} Failure
 * @typedef {{ successes: Success[], errors: Failure[] }} IngestionResult
 */

/**
 * Best-effort summary of a payload for the request log, even when it is not a valid envelope.
 * @param {unknown} payload
 * @returns {{ count: number, ids: (string | null)[] }}
 */
export function summarize(payload) {
  const batch = /** @type {any} */ (payload)?.batch;
  if (!Array.isArray(batch)) return { count: 0, ids: [] };
  return { count: batch.length, ids: batch.map((e) => (typeof e?.id === 'string' ? e.id : null)) };
}

/**
 * Validates and stores a batch. Valid new events are stored; valid events whose id is already stored (or
 * earlier in this batch) are duplicates, reported as success 201 and not stored again; invalid events are
 * reported with 400; ids listed in `failIds` are reported with their status and not stored. Valid new
 * score-create events whose body keeps Langfuse's score rules are also stored as scores.
 * With `langfuse: 'v4'`, as Langfuse v4 does: with `scope: 'scores'` (a Bearer public key) every non-score event
 * gets 401 "Access Scope Denied"; events other than score-create and sdk-log get 400 "Event type not accepted";
 * a score that breaks a rule gets 400 naming it; sdk-log events are stored but listed in neither list.
 * @param {unknown} payload parsed JSON body
 * @param {{ store: ReturnType<typeof import('./store.mjs').openStore>, receivedAt: number,
 *   failIds?: Record<string, number> | null, langfuse?: 'v3' | 'v4', scope?: 'project' | 'scores' }} ctx
 * @returns {{ result: IngestionResult, received: number, stored: number, duplicates: number, invalid: number,
 *   refused: number }}
 * @throws {HttpError} 400 when the envelope is wrong
 */
export function processBatch(payload, { store, receivedAt, failIds = null, langfuse = 'v3', scope = 'project' }) {
  const envelope = envelopeSchema.safeParse(payload);
  if (!envelope.success) throw new HttpError(400, `invalid envelope: ${formatZodError(envelope.error)}`);
  const { batch, metadata } = envelope.data;
  const batchId = typeof metadata?.batch_id === 'string' ? metadata.batch_id : null;

  /** @type {Failure[]} */
  const errors = [];
  /** @type {{ index: number, event: import('./store.mjs').IncomingEvent }[]} */
  const accepted = [];
  let invalid = 0;
  let refused = 0;
  const v4 = langfuse === 'v4';
  batch.forEach((item, index) => {
    const parsed = eventSchema.safeParse(item);
    const id = typeof item.id === 'string' ? item.id : null;
    const type = parsed.success ? parsed.data.type : null;
    const scoreError = type === 'score-create' ? scoreRuleError(parsed.data?.body) : null;
    if (!parsed.success) {
      invalid += 1;
      errors.push({ id, status: 400, message: `batch.${index}: ${formatZodError(parsed.error)}` });
    } else if (!storable(parsed.data.body)) {
      invalid += 1;
      errors.push({ id, status: 400, message: `batch.${index}.body: nested too deeply to store` });
    } else if (v4 && scope === 'scores' && type !== 'score-create') {
      refused += 1;
      errors.push({ id, status: 401, message: 'Access Scope Denied', error: `a public key alone (Bearer) may send scores only, not '${type}'` });
    } else if (v4 && !V4_EVENT_TYPES.includes(/** @type {string} */ (type))) {
      refused += 1;
      errors.push({
        id,
        status: 400,
        message: 'Event type not accepted',
        error: `Langfuse v4 takes only ${V4_EVENT_TYPES.join(' and ')} here; send '${type}' as OTLP to /api/public/otel/v1/traces`,
      });
    } else if (v4 && scoreError) {
      refused += 1;
      errors.push({ id, status: 400, message: `batch.${index}.body: ${scoreError}`, error: 'Invalid score' });
    } else if (failIds && id !== null && Object.hasOwn(failIds, id)) {
      errors.push({ id, status: failIds[id], message: `injected failure (fail-ids fault)` });
    } else {
      accepted.push({ index, event: /** @type {import('./store.mjs').IncomingEvent} */ (parsed.data) });
    }
  });

  const inserted = store.insertBatch(accepted.map((a) => a.event), batchId, receivedAt);
  const stored = inserted.filter(Boolean).length;
  store.scores.insertScores(
    accepted
      .filter((a, i) => inserted[i] && a.event.type === 'score-create' && scoreRuleError(a.event.body) === null)
      .map((a) => /** @type {{ id: string, timestamp: string, body: any }} */ (a.event)),
    receivedAt,
  );
  const listed = v4 ? accepted.filter((a) => a.event.type !== 'sdk-log') : accepted;
  return {
    result: { successes: listed.map((a) => ({ id: a.event.id, status: 201 })), errors },
    received: batch.length,
    stored,
    duplicates: inserted.length - stored,
    invalid,
    refused,
  };
}

/**
 * Whether a body can be serialized for storage: JSON.parse accepts nesting deeper than JSON.stringify can
 * write back (a RangeError that would otherwise fail the whole batch with 500).
 * @param {unknown} body
 */
function storable(body) {
  try {
    JSON.stringify(body);
    return true;
  } catch {
    return false;
  }
}

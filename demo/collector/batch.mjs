// Processing one parsed ingestion payload: envelope and per-event validation, injected per-id failures, storage.
import { envelopeSchema, eventSchema, formatZodError } from './schema.mjs';
import { HttpError } from './body.mjs';

/**
 * @typedef {{ id: string, status: number }} Success
 * @typedef {{ id: string | null, status: number, message: string }} Failure
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
 * reported with 400; ids listed in `failIds` are reported with their status and not stored.
 * @param {unknown} payload parsed JSON body
 * @param {{ store: ReturnType<typeof import('./store.mjs').openStore>, receivedAt: number,
 *   failIds?: Record<string, number> | null }} ctx
 * @returns {{ result: IngestionResult, received: number, stored: number, duplicates: number, invalid: number }}
 * @throws {HttpError} 400 when the envelope is wrong
 */
export function processBatch(payload, { store, receivedAt, failIds = null }) {
  const envelope = envelopeSchema.safeParse(payload);
  if (!envelope.success) throw new HttpError(400, `invalid envelope: ${formatZodError(envelope.error)}`);
  const { batch, metadata } = envelope.data;
  const batchId = typeof metadata?.batch_id === 'string' ? metadata.batch_id : null;

  /** @type {Failure[]} */
  const errors = [];
  /** @type {{ index: number, event: import('./store.mjs').IncomingEvent }[]} */
  const accepted = [];
  let invalid = 0;
  batch.forEach((item, index) => {
    const parsed = eventSchema.safeParse(item);
    const id = typeof item.id === 'string' ? item.id : null;
    if (!parsed.success) {
      invalid += 1;
      errors.push({ id, status: 400, message: `batch.${index}: ${formatZodError(parsed.error)}` });
    } else if (!storable(parsed.data.body)) {
      invalid += 1;
      errors.push({ id, status: 400, message: `batch.${index}.body: nested too deeply to store` });
    } else if (failIds && id !== null && Object.hasOwn(failIds, id)) {
      errors.push({ id, status: failIds[id], message: `injected failure (fail-ids fault)` });
    } else {
      accepted.push({ index, event: /** @type {import('./store.mjs').IncomingEvent} */ (parsed.data) });
    }
  });

  const inserted = store.insertBatch(accepted.map((a) => a.event), batchId, receivedAt);
  const stored = inserted.filter(Boolean).length;
  return {
    result: { successes: accepted.map((a) => ({ id: a.event.id, status: 201 })), errors },
    received: batch.length,
    stored,
    duplicates: inserted.length - stored,
    invalid,
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

// Processing one parsed OTLP export: whole-batch validation, injected span faults, mapping and storage.
import { exportRequestSchema, spanSchema, findLostBatchProblem, MAX_BATCH_SPANS } from './otlp-schema.mjs';
import { spanToObservation } from './otlp-map.mjs';
import { formatZodError } from './schema.mjs';

/**
 * @typedef {import('./serve.mjs').Answer} Answer
 * @typedef {import('./faults.mjs').Fault} Fault
 * @typedef {{ span: any, resource: any, scope: any, index: number, where: string }} Located
 */

/**
 * Best-effort summary of an export for the request log, even when it is invalid.
 * @param {unknown} payload
 * @returns {{ count: number, ids: (string | null)[] }}
 */
export function summarizeExport(payload) {
  const ids = [];
  const resourceSpans = /** @type {any} */ (payload)?.resourceSpans;
  for (const rs of Array.isArray(resourceSpans) ? resourceSpans : []) {
    for (const ss of Array.isArray(rs?.scopeSpans) ? rs.scopeSpans : []) {
      for (const span of Array.isArray(ss?.spans) ? ss.spans : []) ids.push(typeof span?.spanId === 'string' ? span.spanId : null);
    }
  }
  return { count: ids.length, ids };
}

/** @param {number} status @param {string} message @returns {Answer} */
const refuse = (status, message) => ({ status, body: { message } });

/**
 * Validates, then stores an export as Langfuse's route answers it: one bad span refuses the whole batch with
 * 400 and nothing is stored. Stricter than Langfuse: what its worker would silently lose (a KeyValue without a
 * value, a null event) is refused with 400 too. Faults: `reject-span` refuses a batch holding a span with that
 * name or id (400); `fail-ids` answers a batch holding a listed span id with that id's status; `partial-success`
 * stores all but the first `rejectedSpans` spans and says so in `partialSuccess`.
 * @param {unknown} payload parsed JSON body
 * @param {{ spans: ReturnType<typeof import('./span-store.mjs').openSpanStore>, receivedAt: number, fault: Fault }} ctx
 * @returns {{ answer: Answer, received: number, rejected: number, invalidBatch: boolean }}
 */
export function processExport(payload, { spans, receivedAt, fault }) {
  const invalid = (/** @type {string} */ message) => ({ answer: refuse(400, message), received: 0, rejected: 0, invalidBatch: true });
  const injected = (/** @type {number} */ status, /** @type {string} */ message) => ({ answer: refuse(status, message), received: 0, rejected: 0, invalidBatch: false });

  const request = exportRequestSchema.safeParse(payload);
  if (!request.success) return invalid(`invalid ExportTraceServiceRequest, nothing stored: ${formatZodError(request.error)}`);

  /** @type {Located[]} */
  const located = [];
  for (const [r, rs] of request.data.resourceSpans.entries()) {
    for (const [s, ss] of rs.scopeSpans.entries()) {
      for (const [k, span] of ss.spans.entries()) {
        located.push({ span, resource: rs.resource, scope: ss.scope, index: located.length, where: `resourceSpans.${r}.scopeSpans.${s}.spans.${k}` });
      }
    }
  }
  if (located.length > MAX_BATCH_SPANS) return invalid(`too many spans: ${located.length} (at most ${MAX_BATCH_SPANS}), nothing stored`);

  for (const item of located) {
    const parsed = spanSchema.safeParse(item.span);
    if (!parsed.success) {
      return invalid(`span ${item.index} (${item.where}) is invalid, nothing stored: ${formatZodError(parsed.error)}`);
    }
    item.span = parsed.data;
  }
  for (const item of located) {
    const problem = findLostBatchProblem({ resource: item.resource }, item.span);
    if (problem) {
      return invalid(
        `span ${item.index} (${item.where}): ${problem}. Langfuse would accept this batch (200) and then lose all ` +
          'of it in its worker; refused here, nothing stored',
      );
    }
  }

  if (fault.mode === 'reject-span') {
    const hit = located.find((l) => l.span.name === fault.match || l.span.spanId === fault.match);
    if (hit) {
      return injected(400, `injected rejection (reject-span fault): span ${hit.index} '${hit.span.name}' (${hit.span.spanId}), nothing stored`);
    }
  }
  if (fault.mode === 'fail-ids') {
    const hit = located.find((l) => Object.hasOwn(fault.ids, l.span.spanId));
    if (hit) {
      const status = /** @type {number} */ (fault.ids[hit.span.spanId]);
      return injected(status, `injected failure (fail-ids fault): span ${hit.index} (${hit.span.spanId}), nothing stored`);
    }
  }

  const rejected = fault.mode === 'partial-success' ? Math.min(fault.rejectedSpans, located.length) : 0;
  /** @type {{ observation: import('./otlp-map.mjs').Observation, raw: string }[]} */
  let items;
  try {
    items = located.slice(rejected).map((l) => ({ observation: spanToObservation(l.span, l.resource, l.scope), raw: JSON.stringify(l.span) }));
  } catch (err) {
    // JSON.parse accepts nesting deeper than recursion (or JSON.stringify) can walk back.
    if (err instanceof RangeError) return invalid('a span is nested too deeply to store, nothing stored');
    throw err;
  }
  spans.insertSpans(items, receivedAt);

  /** @type {Answer} */
  const answer = rejected > 0
    ? {
        status: 200,
        body: { partialSuccess: { rejectedSpans: rejected, errorMessage: fault.mode === 'partial-success' && fault.errorMessage ? fault.errorMessage : `injected partial success: the first ${rejected} span(s) rejected` } },
      }
    : { status: 200, body: {} };
  return { answer, received: located.length, rejected, invalidBatch: false };
}

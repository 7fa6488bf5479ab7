// The rules Langfuse applies to a score-create body, each answered with a message naming the rule.

/** Score data types Langfuse knows. */
export const SCORE_DATA_TYPES = ['NUMERIC', 'BOOLEAN', 'CATEGORICAL', 'TEXT'];

/** @param {unknown} v */
const given = (v) => v !== undefined && v !== null;

/**
 * The first rule a score body breaks, or null: `name` non-empty; exactly one of `traceId`, `sessionId`,
 * `datasetRunId`; `observationId` only with `traceId`; BOOLEAN value 0 or 1; TEXT value a string of 1–500
 * characters; CATEGORICAL a string; NUMERIC a finite number; without `dataType` a number or a string.
 * @param {unknown} body
 * @returns {string | null}
 */
export function scoreRuleError(body) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'score body must be an object';
  const b = /** @type {Record<string, unknown>} */ (body);
  if (typeof b.name !== 'string' || b.name.length === 0) return 'score name must be a non-empty string';
  const targets = ['traceId', 'sessionId', 'datasetRunId'].filter((k) => given(b[k]));
  if (targets.length !== 1) {
    return `a score needs exactly one of traceId, sessionId, datasetRunId (got ${targets.length === 0 ? 'none' : targets.join(', ')})`;
  }
  for (const k of targets) if (typeof b[k] !== 'string' || b[k] === '') return `score ${k} must be a non-empty string`;
  if (given(b.observationId) && !given(b.traceId)) return 'score observationId needs traceId';
  if (given(b.observationId) && typeof b.observationId !== 'string') return 'score observationId must be a string';
  const v = b.value;
  switch (b.dataType) {
    case undefined:
    case null:
      return (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string' ? null : 'score value must be a number or a string';
    case 'BOOLEAN':
      return v === 0 || v === 1 ? null : 'BOOLEAN score value must be 0 or 1';
    case 'TEXT':
      return typeof v === 'string' && v.length >= 1 && v.length <= 500 ? null : 'TEXT score value must be a string of 1–500 characters';
    case 'CATEGORICAL':
      return typeof v === 'string' ? null : 'CATEGORICAL score value must be a string';
    case 'NUMERIC':
      return typeof v === 'number' && Number.isFinite(v) ? null : 'NUMERIC score value must be a finite number';
    default:
      return `score dataType must be one of ${SCORE_DATA_TYPES.join(', ')}`;
  }
}

import * as z from 'zod/mini';

/** Langfuse's score data types. 'TEXT' is the free-text type (1–500 characters); the others as in every version. */
export type ScoreDataType = 'NUMERIC' | 'BOOLEAN' | 'CATEGORICAL' | 'TEXT';

/** The body of a `score-create` ingestion event, as Langfuse validates it. */
export interface ScoreBody {
  /** 1–800 characters; default a fresh id. */
  id: string;
  name: string;
  /** NUMERIC: a finite number; BOOLEAN: 0 or 1; CATEGORICAL: a non-empty string; TEXT: 1–500 characters. */
  value: number | string;
  traceId?: string;
  observationId?: string;
  sessionId?: string;
  datasetRunId?: string;
  dataType?: ScoreDataType;
  comment?: string;
  metadata?: unknown;
  environment?: string;
  configId?: string;
  queueId?: string;
}

export type ScoreCheck = { ok: true; id: string; body: ScoreBody; stripped?: string[] } | { ok: false; detail: string };

// Few zod kinds, as in core/options.ts: object, optional, custom (with a superRefine check).
const text = (rule: string, test: (v: string) => boolean = () => true) =>
  z.custom<string>((v) => typeof v === 'string' && test(v), { error: `must be ${rule}` });
const optionalId = z.optional(text('a non-empty string', (v) => v !== ''));
const TYPES: readonly string[] = ['NUMERIC', 'BOOLEAN', 'CATEGORICAL', 'TEXT'];

const schema = z
  .object({
    id: z.optional(text('a string of 1 to 800 characters', (v) => v.length >= 1 && v.length <= 800)),
    name: text('a non-empty string', (v) => v.trim() !== ''),
    value: z.custom<number | string>((v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)), {
      error: 'must be a finite number or a string',
    }),
    traceId: optionalId,
    observationId: optionalId,
    sessionId: optionalId,
    datasetRunId: optionalId,
    dataType: z.optional(z.custom<ScoreDataType>((v) => TYPES.includes(v as string), { error: "must be 'NUMERIC', 'BOOLEAN', 'CATEGORICAL' or 'TEXT'" })),
    comment: z.optional(text('a string')),
    metadata: z.optional(z.custom<unknown>(() => true)),
    environment: z.optional(text('a string')),
    configId: z.optional(text('a string')),
    queueId: z.optional(text('a string')),
  })
  .check(
    z.superRefine((s, ctx) => {
      const targets = [s.traceId, s.sessionId, s.datasetRunId].filter((v) => v !== undefined).length;
      if (targets !== 1) {
        const path = [s.traceId === undefined ? 'traceId' : s.sessionId !== undefined ? 'sessionId' : 'datasetRunId'];
        ctx.addIssue({ code: 'custom', path, input: s, message: 'exactly one of traceId, sessionId, datasetRunId is required' });
      }
      if (s.observationId !== undefined && s.traceId === undefined) {
        ctx.addIssue({ code: 'custom', path: ['observationId'], input: s, message: 'needs traceId' });
      }
      const v = s.value;
      const bad = (message: string) => ctx.addIssue({ code: 'custom', path: ['value'], input: v, message });
      if (s.dataType === 'NUMERIC' && typeof v !== 'number') bad('must be a finite number for dataType NUMERIC');
      if (s.dataType === 'BOOLEAN' && v !== 0 && v !== 1) bad('must be 0 or 1 (or true/false) for dataType BOOLEAN');
      if (s.dataType === 'CATEGORICAL' && (typeof v !== 'string' || v === '')) bad('must be a non-empty string for dataType CATEGORICAL');
      if (s.dataType === 'TEXT' && (typeof v !== 'string' || v.length < 1 || v.length > 500)) bad('must be a string of 1 to 500 characters for dataType TEXT');
    }),
  );

const KNOWN = new Set(Object.keys(schema.def.shape));

/**
 * Validates a score as Langfuse's ingestion does, so a score it would refuse is dropped here with a reason:
 * `name` non-empty; exactly one of traceId, sessionId, datasetRunId; observationId needs traceId; the value by
 * dataType. A boolean value becomes 1/0 (dataType BOOLEAN when none is given); null counts as absent. Unknown keys
 * are stripped, as Langfuse strips them (refusing them would drop a whole score for a key Langfuse ignores), and
 * named in `stripped` for the debug log. `detail` names the offending field: `score.traceId: exactly one of …`.
 */
export function checkScore(input: unknown, makeId: () => string): ScoreCheck {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { ok: false, detail: 'score: must be an object' };
  const given: Record<string, unknown> = {};
  const stripped: string[] = [];
  try {
    for (const key of Object.keys(input)) {
      const value = (input as Record<string, unknown>)[key];
      if (value === undefined || value === null) continue;
      if (KNOWN.has(key)) given[key] = value;
      else stripped.push(key);
    }
  } catch {
    return { ok: false, detail: 'score: unreadable object' };
  }
  if (typeof given.value === 'boolean') {
    given.value = given.value ? 1 : 0;
    given.dataType ??= 'BOOLEAN';
  }
  const result = schema.safeParse(given);
  if (!result.success) {
    const detail = result.error.issues
      .map((issue) => `score${issue.path.length ? '.' + issue.path.map(String).join('.') : ''}: ${issue.message}`)
      .join('; ');
    return { ok: false, detail };
  }
  const body = result.data as ScoreBody;
  if (body.id === undefined) body.id = makeId();
  return stripped.length > 0 ? { ok: true, id: body.id, body, stripped } : { ok: true, id: body.id, body };
}

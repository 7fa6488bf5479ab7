import * as z from 'zod/mini';

// The schema sticks to three zod kinds: strictObject, optional and custom (with refine/superRefine checks). Each
// other kind pulls in code of its own: z.string, z.number and z.boolean cost ~0.35 KB min+gzip together, z.int,
// z.enum and z.record ~1.7 KB more, in every bundle (.size-limit.mjs). A custom check aborts like a type check, so
// a value of the wrong type gets one issue, with the same message.

/** An optional value that must pass `test`, else the issue reads `must be …` with `error`. */
function optional<T>(test: (v: unknown) => boolean, error: string) {
  return z.optional(z.custom<T>(test, { error }));
}

function int(min: number, max = Number.MAX_SAFE_INTEGER) {
  const rule = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
  return optional<number>((v) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max, `must be ${rule}`);
}

const fn = (name: string) => optional<(arg: never) => void>((v) => typeof v === 'function', `must be a function (${name})`);

function oneOf<T extends string>(values: readonly T[], error: string) {
  return optional<T>((v) => values.includes(v as T), error);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const retrySchema = z.strictObject(
  { initialDelayMs: int(1), maxDelayMs: int(1), maxAttempts: int(1, 1000) },
  { error: 'must be an object { initialDelayMs, maxDelayMs, maxAttempts }' },
);

const url = () => optional<string>((v) => typeof v === 'string' && v !== '', 'must be a URL string');
const text = () => optional<string>((v) => typeof v === 'string', 'must be a string');

/** The zod schema of the options shared by every entry. Entries may extend it with their own keys. */
export const optionsShape = {
  baseUrl: url(),
  relay: url(),
  endpoints: z.optional(z.strictObject({ traces: url(), events: url() }, { error: 'must be an object { traces?, events? } of URL strings' })),
  endpoint: url(),
  environment: text(),
  release: text(),
  mask: fn('mask'),
  sampleRate: optional<number>((v) => typeof v === 'number' && v >= 0 && v <= 1, 'must be a number from 0 to 1'),
  maxBatchEvents: int(1, 10_000),
  publicKey: text(),
  secretKey: text(),
  flushAt: int(1, 10_000),
  flushInterval: z.optional(
    z
      .custom<number>((v) => typeof v === 'number' && Number.isFinite(v) && v > 0, { error: 'must be a number of seconds > 0' })
      .check(z.refine((v) => v <= 86_400, { error: 'must be at most 86400 seconds' }))
      .check(
        z.refine((v) => !(v >= 1000 && v % 1000 === 0), {
          error: 'is in seconds, as in the Langfuse SDKs: a whole number of thousands is milliseconds by mistake (write 1 for one second)',
        }),
      ),
  ),
  maxBatchBytes: int(1024),
  maxEventBytes: int(64),
  maxQueueEvents: int(1),
  maxEventAgeMs: int(1000),
  storage: oneOf(['indexeddb', 'memory'], "must be 'indexeddb' or 'memory'"),
  requestTimeoutMs: int(1),
  timeout: z.optional(
    z.custom<number>((v) => typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= 600, {
      error: 'must be a number of seconds > 0 and ≤ 600 (as in the Langfuse SDKs; requestTimeoutMs is the same in milliseconds)',
    }),
  ),
  retry: z.optional(retrySchema),
  compression: oneOf(['none', 'gzip', 'auto'], "must be 'none', 'gzip' or 'auto'"),
  headers: z.optional(
    z.custom<Record<string, string>>(isPlainObject, { error: 'must be an object of strings' }).check(
      z.superRefine((v, ctx) => {
        if (!isPlainObject(v)) return;
        for (const [key, value] of Object.entries(v)) {
          if (typeof value !== 'string') ctx.addIssue({ code: 'custom', message: 'values must be strings', path: [key], input: value });
        }
      }),
    ),
  ),
  metadata: z.optional(z.custom<Record<string, unknown>>(isPlainObject, { error: 'must be an object' })),
  onDrop: fn('onDrop'),
  onError: fn('onError'),
  debug: optional<boolean>((v) => typeof v === 'boolean', 'must be true or false'),
  timing: z.optional(
    z.strictObject({ sentGraceMs: int(0), waitUntilBudgetMs: int(1) }, { error: 'must be an object { sentGraceMs, waitUntilBudgetMs }' }),
  ),
};

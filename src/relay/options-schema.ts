import * as z from 'zod/mini';
import type { DedupNamespace } from './dedup-shared';
import type { QueueProducer } from './options';
import { describeValue as describe } from '../core/errors';

function int(min: number, max = Number.MAX_SAFE_INTEGER) {
  const error = max === Number.MAX_SAFE_INTEGER ? `must be an integer ≥ ${min}` : `must be an integer from ${min} to ${max}`;
  return z.number({ error }).check(z.refine((v) => Number.isInteger(v) && v >= min && v <= max, { error }));
}
const fn = z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', { error: 'must be a function' });
const nonEmpty = (what: string) => z.string({ error: `must be ${what}` }).check(z.refine((v) => v !== '', { error: `must be ${what}` }));
const url = z.string({ error: 'must be an http(s) URL' }).check(
  z.refine((v) => {
    try {
      return /^https?:$/.test(new URL(v).protocol);
    } catch {
      return false;
    }
  }, { error: 'must be an http(s) URL' }),
);

export const upstreamSchema = z.strictObject(
  {
    baseUrl: url,
    publicKey: nonEmpty('a public key (pk-lf-…)'),
    secretKey: nonEmpty('a secret key (sk-lf-…)'),
  },
  { error: 'must be an object { baseUrl, publicKey, secretKey }' },
);

/** A Cloudflare Queues producer binding: an object with send and sendBatch. */
export const isProducer = (v: unknown): v is QueueProducer =>
  typeof (v as QueueProducer | null)?.send === 'function' && typeof (v as QueueProducer).sendBatch === 'function';

/** A Durable Object namespace binding (`env.OUTBOX_DEDUP`): an object with idFromName and get. */
export const isNamespace = (v: unknown): v is DedupNamespace =>
  typeof (v as DedupNamespace | null)?.idFromName === 'function' && typeof (v as DedupNamespace).get === 'function';

/**
 * createRelay()'s options, each with the message a wrong value gets. Built when a relay is created (not at import),
 * so a bundle that imports this file for the upstream schema alone (outboxQueueConsumer) leaves it out.
 */
export function relayShape() {
  const origin = z.string({ error: 'must be an origin like https://app.example' }).check(
    z.refine((v) => {
      try {
        return new URL(v).origin === v;
      } catch {
        return false;
      }
    }, { error: 'must be an exact origin like https://app.example (scheme://host[:port], no path or slash)' }),
  );
  const queueSchema = z.custom<QueueProducer | ((env: unknown) => QueueProducer | undefined)>(
    (v) => typeof v === 'function' || isProducer(v),
    { error: 'must be a Queues producer binding (an object with send and sendBatch) or (env) => binding' },
  );
  const dedupSchema = z.custom<DedupNamespace | ((env: unknown) => DedupNamespace | undefined)>(
    (v) => typeof v === 'function' || isNamespace(v),
    { error: 'must be the OutboxDedup Durable Object binding (env.OUTBOX_DEDUP, an object with idFromName and get) or (env) => binding' },
  );
  return {
    upstream: z.optional(upstreamSchema),
    allowOrigins: z.optional(z.array(origin, { error: 'must be an array of origins' })),
    allowNoOrigin: z.optional(z.boolean({ error: 'must be true or false' })),
    publicKeys: z.optional(z.array(nonEmpty('a public key'), { error: 'must be an array of public keys' })),
    basePath: z.optional(
      z.string({ error: 'must be a path like /lf' }).check(z.refine((v) => /^\/[^?#]*$/.test(v), { error: 'must be a path starting with /' })),
    ),
    maxBodyBytes: z.optional(int(1024, 100 * 1024 * 1024)),
    rateLimit: z.optional(
      z.union(
        [
          z.literal(false),
          z.strictObject({ requestsPerMinute: int(1), burst: int(1), maxClients: z.optional(int(1)) }),
        ],
        { error: 'must be false or { requestsPerMinute, burst }' },
      ),
    ),
    dedupWindow: z.optional(z.strictObject({ maxIds: int(0), ttlMs: int(0) }, { error: 'must be { maxIds, ttlMs }' })),
    dedup: z.optional(dedupSchema),
    dedupShards: z.optional(int(1, 64)),
    allowEventTypes: z.optional(z.array(nonEmpty('an event type'), { error: 'must be an array of event types' })),
    queue: z.optional(queueSchema),
    limits: z.optional(
      z.strictObject({
        maxAttributes: z.optional(int(1)),
        maxValueChars: z.optional(int(1)),
        maxDepth: z.optional(int(1, 64)),
        maxSpans: z.optional(int(1)),
        maxEvents: z.optional(int(1)),
      }),
    ),
    upstreamTimeoutMs: z.optional(int(1)),
    retryAfterSeconds: z.optional(int(1, 3600)),
    beaconRetry: z.optional(
      z.strictObject({
        initialDelayMs: z.optional(int(0)),
        maxDelayMs: z.optional(int(0)),
        maxAttempts: z.optional(int(1, 100)),
        budgetMs: z.optional(int(0)),
      }),
    ),
    clientIp: z.optional(fn),
    fetch: z.optional(fn),
    now: z.optional(fn),
    sleep: z.optional(fn),
    onError: z.optional(fn),
    debug: z.optional(z.boolean({ error: 'must be true or false' })),
  };
}


/** One line per zod issue: `rateLimit.burst must be an integer ≥ 1, got 0`. */
/** A short rendering of a bad value for an error message (shared with the client's options). */
export { describe };

export function describeIssues(issues: readonly z.core.$ZodIssue[], input: unknown, label: string): string {
  const lines = issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') return `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    const name = issue.path.map(String).join('.') || 'options';
    let value: any = input;
    for (const key of issue.path) value = value == null ? undefined : value[key as any];
    if (value === undefined && issue.code === 'invalid_type') return `${name} is required`;
    return `${name} ${issue.message}, got ${describe(value)}`;
  });
  return `${label}: invalid options: ${lines.join('; ')}`;
}

// The relay's options: createRelay()'s and outboxQueueConsumer()'s types, defaults, the zod schema that checks them
// (each option with the message a wrong value gets), and resolving them (defaults applied, the upstream read from env).
import * as z from 'zod/mini';
import type { RetryPolicy } from '../core/retry';
import { describeValue as describe } from '../core/errors';
import { describeIssues } from './issues';
import type { QueueProducer } from '../wire/queue-message';

export type { QueueProducer } from '../wire/queue-message';

/** The part of a Workers ExecutionContext the relay uses; the Node bridge passes one too (with the socket's address). */
export interface RelayContext {
  waitUntil?(promise: Promise<unknown>): void;
  /** The client's address as the Node bridge saw it on the socket. */
  remoteAddress?: string;
}

/** A Durable Object namespace binding of the OutboxDedup class (`env.OUTBOX_DEDUP`), typed by what the relay uses. */
export interface DedupNamespace {
  idFromName(name: string): unknown;
  get(id: any): { fetch(input: string, init?: RequestInit): Promise<Response> };
}

/** Where the relay forwards to, with the keys it signs with (Basic pk:sk). */
export interface UpstreamOptions {
  /** The Langfuse (or compatible) server, e.g. `https://cloud.langfuse.com`. LANGFUSE_BASE_URL / LANGFUSE_BASEURL. */
  baseUrl: string;
  /** LANGFUSE_PUBLIC_KEY. */
  publicKey: string;
  /** LANGFUSE_SECRET_KEY. Stays on the server: pages present only a public key. */
  secretKey: string;
}

/** Size and shape bounds of what pages may send. */
export interface RelayLimits {
  /** Attributes per span, resource, scope or span event. @default 256 */
  maxAttributes: number;
  /** Characters of one string value (attribute values, names, event bodies' strings are bounded by maxBodyBytes). @default 262144 */
  maxValueChars: number;
  /** Nesting of arrayValue/kvlistValue inside one attribute value. @default 8 */
  maxDepth: number;
  /** Spans in one OTLP request. @default 5000 */
  maxSpans: number;
  /** Events in one ingestion request. @default 1000 */
  maxEvents: number;
}

/** Options of createRelay(). */
export interface RelayOptions {
  /** Upstream server and keys; when absent, read from `env` (the Worker's env, else `process.env`) per request. */
  upstream?: UpstreamOptions;
  /** Exact origins (`https://app.example`) whose pages may send. @default only the request URL's own origin */
  allowOrigins?: string[];
  /** Accept requests without an `Origin` header (curl, servers). @default false (403) */
  allowNoOrigin?: boolean;
  /** Public keys pages may present (`Authorization: Bearer pk` or `?pk=`). @default [upstream.publicKey] */
  publicKeys?: string[];
  /** Serve only `${basePath}/api/public/…` (and `${basePath}/outbox/receipts`). @default any path ending in Langfuse's two path suffixes (or the receipts one) */
  basePath?: string;
  /** Largest request body, in bytes, before and after gzip inflation. @default 1048576 (1 MiB) */
  maxBodyBytes?: number;
  /**
   * Token bucket per client IP + public key; `false` turns it off.
   * @default { requestsPerMinute: 1200, burst: 300 } — 20 requests/s sustained from one address, 300 at once
   */
  rateLimit?: false | { requestsPerMinute: number; burst: number; maxClients?: number };
  /**
   * Record ids remembered after the upstream (or the queue) took them, per relay instance (a Node process, a
   * Workers isolate) and, with `dedup`, in the shared object too. `{ maxIds: 0 }` or `{ ttlMs: 0 }` turns both off.
   * @default { maxIds: 100000, ttlMs: 600000 }
   */
  dedupWindow?: { maxIds: number; ttlMs: number };
  /**
   * Cloudflare: the OutboxDedup Durable Object binding (or `(env) => env.OUTBOX_DEDUP`), which holds the dedup
   * window for every isolate of this relay, so a resend reaching another isolate is not forwarded again. Each
   * request's new ids are claimed there in one call before forwarding. If the object fails, the relay forwards with
   * its own window only (counted in stats().sharedFailures). @default none: each instance deduplicates on its own
   */
  dedup?: DedupNamespace | ((env: any) => DedupNamespace | undefined);
  /** Objects the shared window is spread over, by a hash of the record id (1 = one object). @default 1 */
  dedupShards?: number;
  /** Ingestion event types pages may send. @default ['score-create'] */
  allowEventTypes?: string[];
  /**
   * A Cloudflare Queues producer, or a function picking it from the Worker's env (`(env) => env.OUTBOX_QUEUE`):
   * accepted records are queued (202) and `outboxQueueConsumer` delivers them. @default none: forward synchronously
   */
  queue?: QueueProducer | ((env: any) => QueueProducer | undefined);
  /** Shape limits of OTLP spans. @default see RelayLimits */
  limits?: Partial<RelayLimits>;
  /** Abort an upstream request after this long. @default 10000 */
  upstreamTimeoutMs?: number;
  /** Retry-After (seconds) the relay sends when the upstream is down or gave none. @default 5 */
  retryAfterSeconds?: number;
  /** Background delivery of beacons: attempts and backoff, within `budgetMs` in total. @default { initialDelayMs: 500, maxDelayMs: 8000, maxAttempts: 5, budgetMs: 25000 } */
  beaconRetry?: Partial<RetryPolicy & { budgetMs: number }>;
  /** The client address the rate limit counts by. @default ctx.remoteAddress (Node bridge), else `CF-Connecting-IP`, else 'unknown' */
  clientIp?: (request: Request, ctx: RelayContext | undefined) => string;
  /** Upstream fetch. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Epoch ms. @default Date.now */
  now?: () => number;
  /** Waits `ms` (beacon retries); tests inject a fast one. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** Called for internal and upstream errors. Errors it throws are swallowed. */
  onError?: (error: Error) => void;
  /** Log decisions to the console. @default false */
  debug?: boolean;
}

export const RELAY_DEFAULTS = {
  maxBodyBytes: 1024 * 1024,
  rateLimit: { requestsPerMinute: 1200, burst: 300, maxClients: 10_000 },
  dedupWindow: { maxIds: 100_000, ttlMs: 600_000 },
  allowEventTypes: ['score-create'],
  limits: { maxAttributes: 256, maxValueChars: 256 * 1024, maxDepth: 8, maxSpans: 5000, maxEvents: 1000 } satisfies RelayLimits,
  upstreamTimeoutMs: 10_000,
  retryAfterSeconds: 5,
  beaconRetry: { initialDelayMs: 500, maxDelayMs: 8000, maxAttempts: 5, budgetMs: 25_000 },
} as const;

/** Thrown by createRelay()/outboxQueueConsumer() for invalid options, naming the option. */
export class RelayOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RelayOptionsError';
  }
}

/** Options after validation and defaults. */
export interface ResolvedRelayOptions {
  upstream?: UpstreamOptions;
  allowOrigins?: string[];
  allowNoOrigin: boolean;
  publicKeys?: string[];
  basePath?: string;
  maxBodyBytes: number;
  rateLimit: false | { requestsPerMinute: number; burst: number; maxClients: number };
  dedupWindow: { maxIds: number; ttlMs: number };
  /** The shared dedup object's binding for this request's env, if any. */
  dedupFor: (env: unknown) => DedupNamespace | undefined;
  dedupShards: number;
  allowEventTypes: string[];
  /** The producer for this request's env, if any (a function option that returns nothing means no queue). */
  queueFor: (env: unknown) => QueueProducer | undefined;
  limits: RelayLimits;
  upstreamTimeoutMs: number;
  retryAfterSeconds: number;
  beaconRetry: RetryPolicy & { budgetMs: number };
  clientIp: (request: Request, ctx: RelayContext | undefined) => string;
  fetch: typeof fetch;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  onError?: (error: Error) => void;
  debug: boolean;
}

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
const isProducer = (v: unknown): v is QueueProducer =>
  typeof (v as QueueProducer | null)?.send === 'function' && typeof (v as QueueProducer).sendBatch === 'function';

/** A Durable Object namespace binding (`env.OUTBOX_DEDUP`): an object with idFromName and get. */
const isNamespace = (v: unknown): v is DedupNamespace =>
  typeof (v as DedupNamespace | null)?.idFromName === 'function' && typeof (v as DedupNamespace).get === 'function';

/**
 * createRelay()'s options, each with the message a wrong value gets. Built when a relay is created (not at import),
 * so a bundle that imports this file for the upstream schema alone (outboxQueueConsumer) leaves it out.
 */
function relayShape() {
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

const defaultClientIp = (request: Request, ctx: RelayContext | undefined): string =>
  ctx?.remoteAddress ?? request.headers.get('CF-Connecting-IP') ?? 'unknown';

/** Validates createRelay()'s options and applies the defaults; throws one RelayOptionsError naming every bad option. */
export function resolveRelayOptions(input: unknown): ResolvedRelayOptions {
  if (input === undefined) input = {};
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new RelayOptionsError(`createRelay(options): options must be an object, got ${describe(input)}`);
  }
  const result = z.strictObject(relayShape()).safeParse(input);
  if (!result.success) throw new RelayOptionsError(describeIssues(result.error.issues, input, 'createRelay'));
  const o = result.data;
  const d = RELAY_DEFAULTS;
  return {
    upstream: o.upstream,
    allowOrigins: o.allowOrigins,
    allowNoOrigin: o.allowNoOrigin ?? false,
    publicKeys: o.publicKeys,
    basePath: o.basePath?.replace(/\/+$/, ''),
    maxBodyBytes: o.maxBodyBytes ?? d.maxBodyBytes,
    rateLimit: o.rateLimit === false ? false : { ...d.rateLimit, ...(o.rateLimit ?? {}) },
    dedupWindow: o.dedupWindow ?? { ...d.dedupWindow },
    dedupFor: (env) => {
      const b = typeof o.dedup === 'function' ? (o.dedup as (env: unknown) => unknown)(env) : o.dedup;
      if (b === undefined || isNamespace(b)) return b;
      throw new RelayOptionsError('relay: the dedup option returned something that is not a Durable Object namespace binding');
    },
    dedupShards: o.dedupShards ?? 1,
    allowEventTypes: o.allowEventTypes ?? [...d.allowEventTypes],
    queueFor: (env) => {
      const q = typeof o.queue === 'function' ? (o.queue as (env: unknown) => unknown)(env) : o.queue;
      if (q === undefined || isProducer(q)) return q;
      throw new RelayOptionsError('relay: the queue option returned something that is not a Queues producer binding');
    },
    limits: { ...d.limits, ...(o.limits ?? {}) } as RelayLimits,
    upstreamTimeoutMs: o.upstreamTimeoutMs ?? d.upstreamTimeoutMs,
    retryAfterSeconds: o.retryAfterSeconds ?? d.retryAfterSeconds,
    beaconRetry: { ...d.beaconRetry, ...(o.beaconRetry ?? {}) } as RetryPolicy & { budgetMs: number },
    clientIp: (o.clientIp as ResolvedRelayOptions['clientIp'] | undefined) ?? defaultClientIp,
    fetch: (o.fetch as typeof fetch | undefined) ?? ((input, init) => globalThis.fetch(input, init)),
    now: (o.now as (() => number) | undefined) ?? Date.now,
    sleep: (o.sleep as ((ms: number) => Promise<void>) | undefined) ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    onError: o.onError as ((error: Error) => void) | undefined,
    debug: o.debug ?? false,
  };
}

/**
 * The upstream from an environment object (a Worker's `env`, `process.env`): LANGFUSE_BASE_URL (or
 * LANGFUSE_BASEURL), LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY. Returns the upstream, or an error naming what is
 * missing or bad, or undefined when none of them is set.
 */
export function upstreamFromEnv(env: unknown): UpstreamOptions | Error | undefined {
  if (!env || typeof env !== 'object') return undefined;
  const e = env as Record<string, unknown>;
  const pick = (...names: string[]) => names.map((n) => e[n]).find((v) => typeof v === 'string' && v !== '') as string | undefined;
  const candidate = {
    baseUrl: pick('LANGFUSE_BASE_URL', 'LANGFUSE_BASEURL'),
    publicKey: pick('LANGFUSE_PUBLIC_KEY'),
    secretKey: pick('LANGFUSE_SECRET_KEY'),
  };
  if (candidate.baseUrl === undefined && candidate.publicKey === undefined && candidate.secretKey === undefined) return undefined;
  const result = upstreamSchema.safeParse(candidate);
  if (result.success) return { ...result.data, baseUrl: result.data.baseUrl.replace(/\/+$/, '') };
  const names: Record<string, string> = { baseUrl: 'LANGFUSE_BASE_URL', publicKey: 'LANGFUSE_PUBLIC_KEY', secretKey: 'LANGFUSE_SECRET_KEY' };
  const bad = result.error.issues.map((i) => `${names[String(i.path[0])] ?? 'env'} ${i.message}`);
  return new RelayOptionsError(`relay: upstream from env: ${bad.join('; ')}`);
}

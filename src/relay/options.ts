import type { RetryPolicy } from '../core/retry';
import type { DedupNamespace } from './dedup-shared';
import type { QueueProducer } from '../wire/queue-message';

export type { QueueProducer } from '../wire/queue-message';

/** The part of a Workers ExecutionContext the relay uses; the Node bridge passes one too (with the socket's address). */
export interface RelayContext {
  waitUntil?(promise: Promise<unknown>): void;
  /** The client's address as the Node bridge saw it on the socket. */
  remoteAddress?: string;
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
  /** Serve only `${basePath}/api/public/…`. @default any path ending in Langfuse's two path suffixes */
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

import type { DropInfo } from './types';
import type { RetryPolicy } from './retry';

/** Options of createOutbox(); see README's options table. Units are in the names, except flushInterval (seconds). */
export interface OutboxOptions {
  /**
   * A Langfuse(-compatible) server, e.g. `https://cloud.langfuse.com`: traces go to
   * `{baseUrl}/api/public/otel/v1/traces`, events and scores to `{baseUrl}/api/public/ingestion`. From
   * LANGFUSE_BASE_URL / LANGFUSE_BASEURL where the environment has them.
   */
  baseUrl?: string;
  /**
   * Browser: the URL of an Outbox relay (`outbox/relay`, e.g. `/lf`) instead of `baseUrl`. It mirrors Langfuse's
   * paths, holds the secret key and accepts beacons; it is the only way for a page to send traces to Langfuse.
   */
  relay?: string;
  /** Full URLs overriding the derived ones, e.g. a plain OpenTelemetry Collector at `http://collector:4318/v1/traces`. */
  endpoints?: { traces?: string; events?: string };
  /** v1: the ingestion URL, the same as `endpoints.events`. Relative URLs resolve against the page. */
  endpoint?: string;
  /** Sent as `Authorization: Bearer <pk>` (or Basic with secretKey), and as `?pk=` on unload sends. */
  publicKey?: string;
  /** Server-side only (Workers, Node): sent as Basic pk:sk. Refused in a browser page. */
  secretKey?: string;
  /** A send starts when this many records are queued (Langfuse's default). @default 15 */
  flushAt?: number;
  /** The most records one request carries: a burst goes out in few requests. @default 500 */
  maxBatchEvents?: number;
  /**
   * SECONDS (as in the Langfuse SDKs): the longest a queued event waits before it is sent. A whole number of
   * thousands (1000, 5000, …) is refused: that is milliseconds by mistake. @default 1
   */
  flushInterval?: number;
  /** A batch is cut before its encoded body exceeds this many bytes. @default 524288 */
  maxBatchBytes?: number;
  /** An event whose encoded JSON is larger is dropped at track() with reason 'too-large'. @default 262144 */
  maxEventBytes?: number;
  /** Events held at once (memory + storage); past it new events are dropped 'queue-full'. @default 10000 */
  maxQueueEvents?: number;
  /** Events older than this are dropped 'expired' instead of sent. @default 604800000 (7 days) */
  maxEventAgeMs?: number;
  /** Where the queue is kept: 'indexeddb' (browser default) or 'memory'. */
  storage?: 'indexeddb' | 'memory';
  /** A request that has not answered after this long is aborted and retried. @default 10000 */
  requestTimeoutMs?: number;
  /**
   * SECONDS, the Langfuse SDKs' name and unit for the same thing as requestTimeoutMs (give one of the two).
   * LANGFUSE_TIMEOUT.
   */
  timeout?: number;
  /** Backoff with full jitter. @default { initialDelayMs: 1000, maxDelayMs: 60000, maxAttempts: 10 } */
  retry?: Partial<RetryPolicy>;
  /**
   * 'auto' gzips where the receiver takes it (the OTLP wire: Langfuse, a relay, the collector) and the platform has
   * CompressionStream — never Langfuse's /ingestion (it answers 400) nor unload sends; 'gzip' gzips every normal
   * send; 'none' never. @default 'auto'
   */
  compression?: 'none' | 'gzip' | 'auto';
  /** Langfuse's environment of every trace (`langfuse.environment`). From LANGFUSE_TRACING_ENVIRONMENT. */
  environment?: string;
  /** The release of every trace (`langfuse.release`). From LANGFUSE_RELEASE. */
  release?: string;
  /** Runs at end() on each observation's input, output and metadata: return what may be sent. */
  mask?: (params: { data: unknown }) => unknown;
  /**
   * Fraction of traces sent, decided per trace id as OpenTelemetry's TraceIdRatioBasedSampler decides (whole traces
   * are kept or left out; left-out spans count in `stats().sampledOut`, not as drops). From LANGFUSE_SAMPLE_RATE.
   * @default 1
   */
  sampleRate?: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Extra members of every batch's metadata. */
  metadata?: Record<string, unknown>;
  /** Called for every dropped group of events. Errors it throws are swallowed. */
  onDrop?: (info: DropInfo) => void;
  /** Called for operational errors (network, storage). Errors it throws are swallowed. */
  onError?: (error: Error) => void;
  /** Log what Outbox does to the console. @default false */
  debug?: boolean;
  /** @internal Timing constants, injectable so that tests need not wait them out. */
  timing?: Timing;
}

/** @internal Timing constants of the platform parts (ms); each defaults to the constant named. */
export interface Timing {
  /** A beaconed record is resent by a later load only this long after it was sent. @default SENT_GRACE_MS (60 s) */
  sentGraceMs?: number;
  /** Workers: how long after the response sends may still run. @default WAIT_UNTIL_BUDGET_MS (25 s) */
  waitUntilBudgetMs?: number;
}

/** Options after defaults and validation. */
export interface ResolvedOptions {
  /** Where events and scores go (the ingestion wire), absolute; undefined for a traces-only client. */
  endpoint?: string;
  /** Where spans go (the OTLP wire), absolute; undefined when nothing says where. */
  tracesEndpoint?: string;
  baseUrl?: string;
  relay?: string;
  endpoints?: { traces?: string; events?: string };
  environment?: string;
  release?: string;
  mask?: (params: { data: unknown }) => unknown;
  sampleRate?: number;
  maxBatchEvents: number;
  publicKey?: string;
  secretKey?: string;
  flushAt: number;
  flushInterval: number;
  maxBatchBytes: number;
  maxEventBytes: number;
  maxQueueEvents: number;
  maxEventAgeMs: number;
  storage?: 'indexeddb' | 'memory';
  requestTimeoutMs: number;
  retry: RetryPolicy;
  compression: 'none' | 'gzip' | 'auto';
  headers: Record<string, string>;
  metadata: Record<string, unknown>;
  onDrop?: (info: DropInfo) => void;
  onError?: (error: Error) => void;
  debug: boolean;
  timing: Timing;
}

export const DEFAULTS = {
  flushAt: 15,
  maxBatchEvents: 500,
  flushInterval: 1,
  maxBatchBytes: 512 * 1024,
  maxEventBytes: 256 * 1024,
  maxQueueEvents: 10_000,
  maxEventAgeMs: 7 * 24 * 3600_000,
  requestTimeoutMs: 10_000,
  retry: { initialDelayMs: 1000, maxDelayMs: 60_000, maxAttempts: 10 },
  compression: 'auto',
} as const;

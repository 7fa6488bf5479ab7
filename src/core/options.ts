// Options, in one module: the contract (OutboxOptions, ResolvedOptions, DEFAULTS), the zod/mini schema, the
// environment's LANGFUSE_* variables, endpoint resolution, and validation with its error text.
import * as z from 'zod/mini';
import { OutboxOptionsError, describeValue as describe } from './errors';
import type { RetryPolicy } from './retry';
import type { DropInfo } from './types';

export { OutboxOptionsError } from './errors';

// ---- the contract ----

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

// ---- the schema ----

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

// ---- the environment ----

/** Where each option may come from in the environment, first match wins (explicit options win over all). */
const ENV_KEYS: Record<string, string[]> = {
  endpoint: ['OUTBOX_ENDPOINT'],
  baseUrl: ['OUTBOX_BASE_URL', 'LANGFUSE_BASE_URL', 'LANGFUSE_BASEURL'],
  environment: ['OUTBOX_ENVIRONMENT', 'LANGFUSE_TRACING_ENVIRONMENT'],
  release: ['OUTBOX_RELEASE', 'LANGFUSE_RELEASE'],
  publicKey: ['OUTBOX_PUBLIC_KEY', 'LANGFUSE_PUBLIC_KEY'],
  secretKey: ['OUTBOX_SECRET_KEY', 'LANGFUSE_SECRET_KEY'],
  flushAt: ['OUTBOX_FLUSH_AT', 'LANGFUSE_FLUSH_AT'],
  flushInterval: ['OUTBOX_FLUSH_INTERVAL', 'LANGFUSE_FLUSH_INTERVAL'],
  sampleRate: ['OUTBOX_SAMPLE_RATE', 'LANGFUSE_SAMPLE_RATE'],
  timeout: ['OUTBOX_TIMEOUT', 'LANGFUSE_TIMEOUT'],
};
const NUMERIC = ['flushAt', 'flushInterval', 'sampleRate', 'timeout'];

/** Option values read from an environment, and the variable each came from (named in error messages). */
export interface EnvOptions {
  values: Record<string, unknown>;
  sources: Record<string, string>;
}

/**
 * Reads options from an environment object (`process.env`, a Worker's `env`). Numbers are parsed; a value that
 * is not a number is kept as text so validation names it.
 */
export function optionsFromEnv(env: Record<string, unknown> | undefined): EnvOptions {
  const values: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  if (!env || typeof env !== 'object') return { values, sources };
  for (const [option, names] of Object.entries(ENV_KEYS)) {
    for (const name of names) {
      const raw = env[name];
      if (typeof raw !== 'string' || raw === '') continue;
      const num = Number(raw);
      values[option] = NUMERIC.includes(option) && raw.trim() !== '' && !Number.isNaN(num) ? num : raw;
      sources[option] = name;
      break;
    }
  }
  return { values, sources };
}

// ---- endpoints ----

/** Langfuse's two paths under a server's (or a relay's) base URL. */
export const INGESTION_PATH = '/api/public/ingestion';
export const OTLP_PATH = '/api/public/otel/v1/traces';

/**
 * Where each wire goes: explicit `endpoints` first, then `endpoint` (v1, events), then the paths under `relay` or
 * `baseUrl`. A v1 `endpoint` ending in Langfuse's ingestion path also gives the traces URL beside it. Undefined
 * when nothing names a URL for events. URLs may still be relative here (entries resolve them).
 */
export function resolveEndpoints(o: {
  baseUrl?: string;
  relay?: string;
  endpoint?: string;
  endpoints?: { traces?: string; events?: string };
}): { endpoint?: string; tracesEndpoint?: string } | undefined {
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const base = (str(o.relay) ?? str(o.baseUrl))?.replace(/\/+$/, '');
  const v1 = str(o.endpoint);
  const events = str(o.endpoints?.events);
  const tracesUrl = str(o.endpoints?.traces);
  const v1Base = v1 !== undefined && v1.replace(/\/+$/, '').endsWith(INGESTION_PATH) ? v1.replace(/\/+$/, '').slice(0, -INGESTION_PATH.length) : undefined;
  const endpoint = events ?? v1 ?? (base !== undefined ? base + INGESTION_PATH : undefined);
  const traces = tracesUrl ?? (base !== undefined ? base + OTLP_PATH : v1Base !== undefined ? v1Base + OTLP_PATH : undefined);
  return endpoint === undefined && traces === undefined ? undefined : { endpoint, tracesEndpoint: traces };
}

// ---- validation ----

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let v: any = input;
  for (const key of path) v = v == null ? undefined : v[key as any];
  return v;
}

const MISSING_URL = 'baseUrl is required (or relay, endpoints, or the v1 endpoint; or LANGFUSE_BASE_URL in the environment)';

/**
 * Validates options (explicit values over environment values), applies defaults, and throws one
 * OutboxOptionsError naming every bad option: `flushAt must be an integer from 1 to 10000, got "abc"`.
 */
export function resolveOptions<Shape extends z.core.$ZodLooseShape>(
  input: unknown,
  env: Record<string, unknown> | undefined,
  extraShape?: Shape,
): ResolvedOptions & z.infer<z.ZodMiniObject<Shape>> {
  return resolveOptionsFrom(input, optionsFromEnv(env), extraShape);
}

/**
 * resolveOptions() with the environment already read (`optionsFromEnv`), or none: a page has no environment, and
 * calling this leaves the environment table out of the browser bundles.
 */
export function resolveOptionsFrom<Shape extends z.core.$ZodLooseShape>(
  input: unknown,
  fromEnv: EnvOptions = { values: {}, sources: {} },
  extraShape?: Shape,
): ResolvedOptions & z.infer<z.ZodMiniObject<Shape>> {
  if (input === undefined) input = {};
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new OutboxOptionsError(`createOutbox(options): options must be an object, got ${describe(input)}`);
  }
  const merged: Record<string, unknown> = { ...fromEnv.values };
  for (const [k, v] of Object.entries(input)) if (v !== undefined) merged[k] = v;
  const schema = z.strictObject({ ...optionsShape, ...(extraShape ?? {}) });
  const result = schema.safeParse(merged);
  const where = resolveEndpoints(merged as Parameters<typeof resolveEndpoints>[0]);
  const missing = where ? [] : [MISSING_URL];
  if (!result.success || missing.length > 0) {
    const lines = (result.success ? [] : result.error.issues).map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      }
      const name = issue.path.map(String).join('.') || 'options';
      const option = String(issue.path[0] ?? '');
      const source = option in input! ? '' : fromEnv.sources[option] ? ` (from ${fromEnv.sources[option]})` : '';
      return `${name}${source} ${issue.message}, got ${describe(valueAt(merged, issue.path))}`;
    });
    throw new OutboxOptionsError(`createOutbox: invalid options: ${[...missing, ...lines].join('; ')}`);
  }
  const o = result.data as Record<string, any>;
  // zod's output holds only the keys given (undefined ones were left out above), so the defaults show through.
  const resolved = {
    ...DEFAULTS,
    headers: {},
    metadata: {},
    debug: false,
    timing: {},
    ...o,
    retry: { ...DEFAULTS.retry, ...(o.retry ?? {}) },
  };
  Object.assign(resolved, where);
  // `timeout` (seconds, the Langfuse SDKs' name) is requestTimeoutMs in other units; an explicit requestTimeoutMs
  // wins over a LANGFUSE_TIMEOUT from the environment, and giving both explicitly is a mistake.
  if ('timeout' in input && input.timeout !== undefined && 'requestTimeoutMs' in input && input.requestTimeoutMs !== undefined) {
    throw new OutboxOptionsError('createOutbox: invalid options: give timeout (seconds) or requestTimeoutMs (milliseconds), not both');
  }
  const withTimeout = resolved as { timeout?: number; requestTimeoutMs: number };
  if (withTimeout.timeout !== undefined) {
    if (!('requestTimeoutMs' in input) || input.requestTimeoutMs === undefined) withTimeout.requestTimeoutMs = Math.ceil(withTimeout.timeout * 1000);
    delete withTimeout.timeout;
  }
  if (resolved.maxEventBytes > resolved.maxBatchBytes) {
    throw new OutboxOptionsError(
      `createOutbox: invalid options: maxEventBytes must be ≤ maxBatchBytes (${resolved.maxBatchBytes}), got ${resolved.maxEventBytes}`,
    );
  }
  if (resolved.retry.maxDelayMs < resolved.retry.initialDelayMs) {
    throw new OutboxOptionsError(
      `createOutbox: invalid options: retry.maxDelayMs must be ≥ retry.initialDelayMs (${resolved.retry.initialDelayMs}), got ${resolved.retry.maxDelayMs}`,
    );
  }
  return resolved as any;
}

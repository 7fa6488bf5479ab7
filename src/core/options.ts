import * as z from 'zod/mini';
import type { DropInfo } from './types';
import type { RetryPolicy } from './retry';
import { OutboxOptionsError } from './errors';

/** Options of createOutbox(); see README's options table. Units are in the names, except flushInterval (seconds). */
export interface OutboxOptions {
  /** Ingestion URL, e.g. `https://host/api/public/ingestion`. Relative URLs are resolved against the page. */
  endpoint: string;
  /** Sent as `Authorization: Bearer <pk>` (or Basic with secretKey), and as `?pk=` on unload sends. */
  publicKey?: string;
  /** Server-side only (Workers, Node): sent as Basic pk:sk. Refused in a browser page. */
  secretKey?: string;
  /** A batch is sent when this many events are queued; also the most events one request carries. @default 15 */
  flushAt?: number;
  /** SECONDS (as in the Langfuse SDKs): the longest a queued event waits before it is sent. @default 1 */
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
  /** Backoff with full jitter. @default { initialDelayMs: 1000, maxDelayMs: 60000, maxAttempts: 10 } */
  retry?: Partial<RetryPolicy>;
  /** 'gzip' compresses request bodies with CompressionStream where available. @default 'none' */
  compression?: 'none' | 'gzip';
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
  endpoint: string;
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
  compression: 'none' | 'gzip';
  headers: Record<string, string>;
  metadata: Record<string, unknown>;
  onDrop?: (info: DropInfo) => void;
  onError?: (error: Error) => void;
  debug: boolean;
  timing: Timing;
}

export const DEFAULTS = {
  flushAt: 15,
  flushInterval: 1,
  maxBatchBytes: 512 * 1024,
  maxEventBytes: 256 * 1024,
  maxQueueEvents: 10_000,
  maxEventAgeMs: 7 * 24 * 3600_000,
  requestTimeoutMs: 10_000,
  retry: { initialDelayMs: 1000, maxDelayMs: 60_000, maxAttempts: 10 },
  compression: 'none',
} as const;

export { OutboxOptionsError };

// The schema sticks to a few zod kinds (string, number, boolean, strictObject, custom/refine): z.int, z.enum and
// z.record each pull in code of their own, ~1.7 KB min+gzip together in every bundle (scripts/size.mjs).

function int(min: number, max = Number.MAX_SAFE_INTEGER) {
  const rule = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
  const error = `must be ${rule}`;
  return z.optional(z.number({ error }).check(z.refine((v) => Number.isInteger(v) && v >= min && v <= max, { error })));
}

const fn = (name: string) =>
  z.optional(z.custom<(arg: never) => void>((v) => typeof v === 'function', { error: `must be a function (${name})` }));

function oneOf<T extends string>(values: readonly T[], error: string) {
  return z.optional(z.custom<T>((v) => values.includes(v as T), { error }));
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const retrySchema = z.strictObject(
  { initialDelayMs: int(1), maxDelayMs: int(1), maxAttempts: int(1, 1000) },
  { error: 'must be an object { initialDelayMs, maxDelayMs, maxAttempts }' },
);

/** The zod schema of the options shared by every entry. Entries may extend it with their own keys. */
export const optionsShape = {
  endpoint: z.string({ error: 'must be a URL string' }).check(z.refine((v) => v !== '', { error: 'must be a URL string' })),
  publicKey: z.optional(z.string({ error: 'must be a string' })),
  secretKey: z.optional(z.string({ error: 'must be a string' })),
  flushAt: int(1, 10_000),
  flushInterval: z.optional(
    z.number({ error: 'must be a number of seconds > 0' }).check(
      z.refine((v) => v > 0, { error: 'must be a number of seconds > 0' }),
      z.refine((v) => v <= 86_400, { error: 'must be at most 86400 seconds' }),
    ),
  ),
  maxBatchBytes: int(1024),
  maxEventBytes: int(64),
  maxQueueEvents: int(1),
  maxEventAgeMs: int(1000),
  storage: oneOf(['indexeddb', 'memory'], "must be 'indexeddb' or 'memory'"),
  requestTimeoutMs: int(1),
  retry: z.optional(retrySchema),
  compression: oneOf(['none', 'gzip'], "must be 'none' or 'gzip'"),
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
  debug: z.optional(z.boolean({ error: 'must be true or false' })),
  timing: z.optional(
    z.strictObject({ sentGraceMs: int(0), waitUntilBudgetMs: int(1) }, { error: 'must be an object { sentGraceMs, waitUntilBudgetMs }' }),
  ),
};

/** Where each option may come from in the environment, first match wins (explicit options win over all). */
const ENV_KEYS: Record<string, string[]> = {
  endpoint: ['OUTBOX_ENDPOINT'],
  publicKey: ['OUTBOX_PUBLIC_KEY', 'LANGFUSE_PUBLIC_KEY'],
  secretKey: ['OUTBOX_SECRET_KEY', 'LANGFUSE_SECRET_KEY'],
  flushAt: ['OUTBOX_FLUSH_AT', 'LANGFUSE_FLUSH_AT'],
  flushInterval: ['OUTBOX_FLUSH_INTERVAL', 'LANGFUSE_FLUSH_INTERVAL'],
};
const NUMERIC = new Set(['flushAt', 'flushInterval']);

/**
 * Reads options from an environment object (`process.env`, a Worker's `env`). Numbers are parsed; a value that
 * is not a number is kept as text so validation names it. LANGFUSE_BASEURL/LANGFUSE_BASE_URL become the endpoint
 * with `/api/public/ingestion` appended.
 */
export function optionsFromEnv(env: Record<string, unknown> | undefined): { values: Record<string, unknown>; sources: Record<string, string> } {
  const values: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  if (!env || typeof env !== 'object') return { values, sources };
  for (const [option, names] of Object.entries(ENV_KEYS)) {
    for (const name of names) {
      const raw = env[name];
      if (typeof raw !== 'string' || raw === '') continue;
      const num = Number(raw);
      values[option] = NUMERIC.has(option) && raw.trim() !== '' && !Number.isNaN(num) ? num : raw;
      sources[option] = name;
      break;
    }
  }
  if (values.endpoint === undefined) {
    for (const name of ['LANGFUSE_BASEURL', 'LANGFUSE_BASE_URL']) {
      const raw = env[name];
      if (typeof raw === 'string' && raw !== '') {
        values.endpoint = raw.replace(/\/+$/, '') + '/api/public/ingestion';
        sources.endpoint = name;
        break;
      }
    }
  }
  return { values, sources };
}

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol') return value.toString();
  try {
    const json = JSON.stringify(value);
    if (json === undefined) return String(value);
    return json.length > 60 ? json.slice(0, 57) + '...' : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let v: any = input;
  for (const key of path) v = v == null ? undefined : v[key as any];
  return v;
}

/**
 * Validates options (explicit values over environment values), applies defaults, and throws one
 * OutboxOptionsError naming every bad option: `flushAt must be an integer from 1 to 10000, got "abc"`.
 */
export function resolveOptions<Shape extends z.core.$ZodLooseShape>(
  input: unknown,
  env: Record<string, unknown> | undefined,
  extraShape?: Shape,
): ResolvedOptions & z.infer<z.ZodMiniObject<Shape>> {
  if (input === undefined) input = {};
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new OutboxOptionsError(`createOutbox(options): options must be an object, got ${describe(input)}`);
  }
  const fromEnv = optionsFromEnv(env);
  const merged: Record<string, unknown> = { ...fromEnv.values };
  for (const [k, v] of Object.entries(input)) if (v !== undefined) merged[k] = v;
  const schema = z.strictObject({ ...optionsShape, ...(extraShape ?? {}) });
  const result = schema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      }
      const name = issue.path.map(String).join('.') || 'options';
      const option = String(issue.path[0] ?? '');
      const source = option in input! ? '' : fromEnv.sources[option] ? ` (from ${fromEnv.sources[option]})` : '';
      const value = valueAt(merged, issue.path);
      if (value === undefined && issue.code === 'invalid_type') return `${name}${source} is required`;
      return `${name}${source} ${issue.message}, got ${describe(value)}`;
    });
    throw new OutboxOptionsError(`createOutbox: invalid options: ${lines.join('; ')}`);
  }
  const o = result.data as Record<string, any>;
  const resolved = {
    ...o,
    flushAt: o.flushAt ?? DEFAULTS.flushAt,
    flushInterval: o.flushInterval ?? DEFAULTS.flushInterval,
    maxBatchBytes: o.maxBatchBytes ?? DEFAULTS.maxBatchBytes,
    maxEventBytes: o.maxEventBytes ?? DEFAULTS.maxEventBytes,
    maxQueueEvents: o.maxQueueEvents ?? DEFAULTS.maxQueueEvents,
    maxEventAgeMs: o.maxEventAgeMs ?? DEFAULTS.maxEventAgeMs,
    requestTimeoutMs: o.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
    retry: { ...DEFAULTS.retry, ...(o.retry ?? {}) },
    compression: o.compression ?? DEFAULTS.compression,
    headers: o.headers ?? {},
    metadata: o.metadata ?? {},
    debug: o.debug ?? false,
    timing: o.timing ?? {},
  };
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

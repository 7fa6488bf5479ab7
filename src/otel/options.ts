import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { OutboxOptionsError, type OutboxOptions } from '../core/options';

/** The part of an ExecutionContext the processor uses (Workers). */
export interface WaitUntilContext {
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * Options of `new OutboxSpanProcessor(options)`: `LangfuseSpanProcessor`'s names and units (swapping is a
 * rename), plus Outbox's own bounds and callbacks. Every option may be left out; keys, URL, flush settings,
 * environment and release also come from `LANGFUSE_*` in `process.env` (or `env` in a Worker).
 */
export interface OutboxSpanProcessorOptions
  extends Pick<
    OutboxOptions,
    | 'publicKey'
    | 'secretKey'
    | 'endpoints'
    | 'environment'
    | 'release'
    | 'maxQueueEvents'
    | 'maxBatchEvents'
    | 'maxBatchBytes'
    | 'maxEventBytes'
    | 'maxEventAgeMs'
    | 'retry'
    | 'compression'
    | 'onDrop'
    | 'onError'
    | 'debug'
  > {
  /** A Langfuse(-compatible) server; spans go to `{baseUrl}/api/public/otel/v1/traces`. LANGFUSE_BASE_URL. @default 'https://cloud.langfuse.com' */
  baseUrl?: string;
  /** A send starts when this many spans are queued. LANGFUSE_FLUSH_AT. @default 15 */
  flushAt?: number;
  /** SECONDS, as in LangfuseSpanProcessor: the longest an ended span waits before it is sent. LANGFUSE_FLUSH_INTERVAL. @default 1 */
  flushInterval?: number;
  /**
   * SECONDS: each request is aborted (and retried later) after this long, and `forceFlush()` / `shutdown()`
   * resolve after at most this plus a small margin, whatever the server does. LANGFUSE_TIMEOUT. @default 5
   */
  timeout?: number;
  /** 'batched' (default) or 'immediate': a flush starts after each span end (spans ending in one task share it). */
  exportMode?: 'batched' | 'immediate';
  /**
   * Runs on `langfuse.observation.input` / `.output` / `.metadata` and `langfuse.trace.input` / `.output` /
   * `.metadata` of every exported span (the value as set, usually a JSON string); may be async. A mask that throws
   * replaces the value with "<fully masked due to failed mask function>", as Langfuse does.
   */
  mask?: (params: { data: unknown }) => unknown;
  /**
   * Which ended spans are exported. @default isDefaultExportSpan — Langfuse's filter: scope `langfuse-sdk`, any
   * `gen_ai.*` attribute, or a known LLM instrumentation scope.
   */
  shouldExportSpan?: (params: { otelSpan: ReadableSpan }) => boolean;
  /** Extra request headers (after Outbox's own). */
  additionalHeaders?: Record<string, string>;
  /** Accepted for compatibility; Outbox uploads no media (base64 data stays inline). */
  mediaUploadEnabled?: boolean;
  /** Workers: the environment to read `LANGFUSE_*` from (instead of `process.env`). */
  env?: object;
  /** Workers: an invocation's ExecutionContext; sends go to its `waitUntil` (else to `waitUntil` of 'cloudflare:workers'). */
  ctx?: WaitUntilContext;
}

/** Default `timeout` (seconds), LangfuseSpanProcessor's. */
export const DEFAULT_TIMEOUT_S = 5;
/** Where spans go when nothing names a server, as in LangfuseSpanProcessor. */
export const DEFAULT_BASE_URL = 'https://cloud.langfuse.com';

/**
 * Default `maxBatchBytes` of the processor: LLM spans carry whole prompts, and Langfuse takes up to 5 MB per
 * request (the client's default of 512 KiB suits page events); a 413 still splits the batch.
 */
export const DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024;
/** Default `maxEventBytes` of the processor (a span larger than this is dropped 'too-large' and reported). */
export const DEFAULT_MAX_SPAN_BYTES = 1024 * 1024;

/** What the processor itself reads of its options; the rest goes to the Outbox client. */
export interface ProcessorSettings {
  timeoutMs: number;
  exportMode: 'batched' | 'immediate';
  mask?: (params: { data: unknown }) => unknown;
  shouldExportSpan?: (params: { otelSpan: ReadableSpan }) => boolean;
  ctx?: WaitUntilContext;
  env?: Record<string, unknown>;
}

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

const fail = (problems: string[]) => new OutboxOptionsError(`OutboxSpanProcessor: invalid options: ${problems.join('; ')}`);

/**
 * Splits the processor's options into its own settings and the Outbox client's options, validating the
 * processor's own keys (each problem names its option). The client validates the rest when it is built.
 */
export function splitOptions(input: unknown, processEnv: Record<string, unknown> | undefined): { settings: ProcessorSettings; client: Record<string, unknown> } {
  if (input === undefined) input = {};
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw fail([`options must be an object, got ${describe(input)}`]);
  const { timeout, exportMode, mask, shouldExportSpan, additionalHeaders, mediaUploadEnabled, env, ctx, exporter, ...client } = input as Record<string, unknown>;
  const problems: string[] = [];
  if (exporter !== undefined) problems.push('exporter is not supported (Outbox sends itself; use baseUrl or endpoints.traces)');
  if (env !== undefined && (typeof env !== 'object' || env === null)) problems.push(`env must be the Worker env object, got ${describe(env)}`);
  const source = (env as Record<string, unknown> | undefined) ?? processEnv;
  let seconds: unknown = timeout;
  let from = '';
  if (seconds === undefined && typeof source?.LANGFUSE_TIMEOUT === 'string' && source.LANGFUSE_TIMEOUT !== '') {
    seconds = Number(source.LANGFUSE_TIMEOUT);
    from = ' (from LANGFUSE_TIMEOUT)';
  }
  seconds ??= DEFAULT_TIMEOUT_S;
  if (typeof seconds !== 'number' || !(seconds > 0) || seconds > 600) {
    problems.push(`timeout${from} must be a number of seconds > 0 and ≤ 600, got ${describe(from ? source?.LANGFUSE_TIMEOUT : seconds)}`);
  }
  if (exportMode !== undefined && exportMode !== 'batched' && exportMode !== 'immediate') {
    problems.push(`exportMode must be 'batched' or 'immediate', got ${describe(exportMode)}`);
  }
  if (mask !== undefined && typeof mask !== 'function') problems.push(`mask must be a function, got ${describe(mask)}`);
  if (shouldExportSpan !== undefined && typeof shouldExportSpan !== 'function') problems.push(`shouldExportSpan must be a function, got ${describe(shouldExportSpan)}`);
  if (mediaUploadEnabled !== undefined && typeof mediaUploadEnabled !== 'boolean') problems.push(`mediaUploadEnabled must be true or false, got ${describe(mediaUploadEnabled)}`);
  if (ctx !== undefined && typeof (ctx as WaitUntilContext | null)?.waitUntil !== 'function') problems.push('ctx must be the ExecutionContext (an object with waitUntil)');
  if (additionalHeaders !== undefined) {
    const ok =
      typeof additionalHeaders === 'object' && additionalHeaders !== null && !Array.isArray(additionalHeaders) && Object.values(additionalHeaders).every((v) => typeof v === 'string');
    if (!ok) problems.push(`additionalHeaders must be an object of strings, got ${describe(additionalHeaders)}`);
  }
  if ('headers' in client || 'requestTimeoutMs' in client || 'storage' in client || 'endpoint' in client || 'relay' in client) {
    for (const key of ['headers', 'requestTimeoutMs', 'storage', 'endpoint', 'relay']) {
      if (key in client) problems.push(`unknown option "${key}"${key === 'headers' ? ' (use additionalHeaders)' : key === 'requestTimeoutMs' ? ' (use timeout, in seconds)' : ''}`);
    }
  }
  for (const [name, url] of [
    ['baseUrl', client.baseUrl],
    ['endpoints.traces', (client.endpoints as { traces?: unknown } | undefined)?.traces],
  ] as const) {
    if (typeof url !== 'string' || url === '') continue;
    try {
      new URL(url);
    } catch {
      problems.push(`${name} must be an absolute URL, got ${describe(url)}`);
    }
  }
  if (problems.length > 0) throw fail(problems);

  const hasUrl = (v: unknown) => typeof v === 'string' && v !== '';
  const endpoints = client.endpoints as { traces?: unknown } | undefined;
  if (!hasUrl(client.baseUrl) && !hasUrl(endpoints?.traces) && !['OUTBOX_BASE_URL', 'LANGFUSE_BASE_URL', 'LANGFUSE_BASEURL'].some((k) => hasUrl(source?.[k]))) {
    client.baseUrl = DEFAULT_BASE_URL;
  }
  if (additionalHeaders) client.headers = additionalHeaders;
  if (client.maxBatchBytes === undefined) client.maxBatchBytes = DEFAULT_MAX_BATCH_BYTES;
  if (client.maxEventBytes === undefined && typeof client.maxBatchBytes === 'number') {
    client.maxEventBytes = Math.min(DEFAULT_MAX_SPAN_BYTES, client.maxBatchBytes);
  }
  client.requestTimeoutMs = Math.ceil((seconds as number) * 1000);
  return {
    settings: {
      timeoutMs: Math.ceil((seconds as number) * 1000),
      exportMode: (exportMode as ProcessorSettings['exportMode']) ?? 'batched',
      mask: mask as ProcessorSettings['mask'],
      shouldExportSpan: shouldExportSpan as ProcessorSettings['shouldExportSpan'],
      ctx: ctx as WaitUntilContext | undefined,
      env: source,
    },
    client,
  };
}

import * as z from 'zod/mini';
import type { RetryPolicy } from '../core/retry';
import { describe, describeIssues, isNamespace, isProducer, relayShape, upstreamSchema } from './options-schema';
import { RELAY_DEFAULTS, RelayOptionsError, type RelayContext, type RelayLimits, type ResolvedRelayOptions, type UpstreamOptions } from './options';

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

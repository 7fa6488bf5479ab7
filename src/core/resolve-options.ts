import * as z from 'zod/mini';
import { resolveEndpoints } from './endpoints';
import { optionsFromEnv, type EnvOptions } from './options-env';
import { OutboxOptionsError, describeValue as describe } from './errors';
import { optionsShape } from './options-schema';
import { DEFAULTS, type ResolvedOptions } from './options-types';

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

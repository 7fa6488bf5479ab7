/** Backoff policy (`retry` option). */
export interface RetryPolicy {
  /** First backoff ceiling in ms. @default 1000 */
  initialDelayMs: number;
  /** Backoff cap in ms. @default 60000 */
  maxDelayMs: number;
  /** Failed answers (408/429/5xx) a batch may get before its events are dropped 'retry-exhausted'. @default 10 */
  maxAttempts: number;
}

/** What went wrong with one send, as far as retry cares. */
export interface RetryInput {
  /** Failed answers this batch has had, including this one (network failures are not counted). */
  attempts: number;
  /** Consecutive failures of any kind, including this one: drives the backoff exponent. */
  failures: number;
  /** True for a network error or timeout (no answer). */
  network: boolean;
  /** Server-requested wait from Retry-After, in ms. */
  retryAfterMs?: number;
  /** A number in [0, 1): the jitter draw. */
  random: number;
  /** The caller probes (one record per request, one at a time) once probing() says so: delays stay short then. */
  probe?: boolean;
}

/**
 * Once the backoff could wait longer than this (after a few consecutive failures: network errors, 5xx), the client
 * stops backing off further and probes instead: one record per request, one request at a time, every
 * [PROBE_EVERY_MS / 2, PROBE_EVERY_MS]; the first answered probe ends the streak and the queue goes at once. So a
 * server that comes back is noticed within PROBE_EVERY_MS, at the cost of one small request per probe.
 */
export const PROBE_EVERY_MS = 6000;

/** The backoff ceiling after `failures` consecutive failures: min(maxDelayMs, initialDelayMs · 2^(failures-1)). */
function ceilingFor(failures: number, policy: RetryPolicy): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
}

/** True while `failures` consecutive failures put the client in probe mode (see PROBE_EVERY_MS). */
export function probing(failures: number, policy: RetryPolicy): boolean {
  return failures > 0 && ceilingFor(failures, policy) > PROBE_EVERY_MS;
}

/**
 * Pure retry decision: how long to wait before the next attempt, or 'give-up'.
 * Full jitter: a uniform delay in [0, min(maxDelayMs, initialDelayMs · 2^(failures-1))]; for a caller that probes,
 * once that ceiling passes PROBE_EVERY_MS, a probe's delay in [PROBE_EVERY_MS / 2, PROBE_EVERY_MS] instead (the
 * relay's queue consumer does not probe: its backoff is unchanged). Retry-After wins (capped at
 * maxDelayMs · 10 so a hostile header cannot park the queue for days).
 * Network failures never give up here: such batches wait until maxEventAgeMs (the client expires them).
 */
export function nextRetry(input: RetryInput, policy: RetryPolicy): { delayMs: number } | 'give-up' {
  if (!input.network && input.attempts >= policy.maxAttempts) return 'give-up';
  if (input.retryAfterMs !== undefined && input.retryAfterMs >= 0) {
    return { delayMs: Math.min(Math.max(input.retryAfterMs, 0), policy.maxDelayMs * 10) };
  }
  if (input.probe && probing(input.failures, policy)) return { delayMs: Math.floor(PROBE_EVERY_MS / 2 + (input.random * PROBE_EVERY_MS) / 2) };
  return { delayMs: Math.floor(input.random * ceilingFor(input.failures, policy)) };
}

/**
 * Parses a Retry-After header: delta-seconds or an HTTP date. Returns ms from `now`, or undefined when the
 * header is absent or junk.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value == null) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (!/^[A-Za-z]{3},? /.test(text)) return undefined; // HTTP-date starts with a day name; Date.parse('-5') is a year
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Status codes worth retrying: the request may succeed later. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * Token buckets per client (IP + public key): `burst` tokens, refilled at `requestsPerMinute`. At most
 * `maxClients` buckets are kept; the least recently used goes first (a forgotten client starts full again).
 */
export interface RateLimiter {
  /** Takes a token: undefined when allowed, else the whole seconds until one is available (for Retry-After). */
  take(client: string): number | undefined;
}

export function createRateLimiter(
  config: { requestsPerMinute: number; burst: number; maxClients: number },
  now: () => number,
): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const perMs = config.requestsPerMinute / 60_000;
  return {
    take(client) {
      const t = now();
      const bucket = buckets.get(client) ?? { tokens: config.burst, at: t };
      buckets.delete(client);
      bucket.tokens = Math.min(config.burst, bucket.tokens + Math.max(0, t - bucket.at) * perMs);
      bucket.at = t;
      buckets.set(client, bucket);
      if (buckets.size > config.maxClients) buckets.delete(buckets.keys().next().value as string);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return undefined;
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
    },
  };
}

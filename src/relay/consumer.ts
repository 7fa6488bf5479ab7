import * as z from 'zod/mini';
import { callHost } from '../core/errors';
import { nextRetry, type RetryPolicy } from '../core/retry';
import { isRelayMessage } from '../wire/queue-message';
import { describeIssues } from './issues';
import { RelayOptionsError, upstreamFromEnv, upstreamSchema, type UpstreamOptions } from './options';
import { deliver } from './upstream';

/** Longest delay Cloudflare Queues accepts for a retry (12 hours). */
const MAX_DELAY_SECONDS = 43_200;

/** One message of a Queues batch, typed by what the consumer uses. */
export interface QueueMessage {
  readonly id?: string;
  readonly body: unknown;
  /** Deliveries of this message so far, this one included (1 on the first). */
  readonly attempts: number;
  ack(): void;
  retry(options?: { delaySeconds?: number }): void;
}

/** A Queues batch, typed structurally (`MessageBatch` in @cloudflare/workers-types fits). */
export interface QueueBatch {
  readonly queue?: string;
  readonly messages: readonly QueueMessage[];
}

/** Options of outboxQueueConsumer(). */
export interface QueueConsumerOptions {
  /** Upstream and keys; when absent, LANGFUSE_BASE_URL/LANGFUSE_PUBLIC_KEY/LANGFUSE_SECRET_KEY from the Worker's env. */
  upstream?: UpstreamOptions;
  /**
   * Backoff for retryable failures (Retry-After wins), in ms, rounded up to whole `delaySeconds`; after
   * `maxAttempts` deliveries a message is given up (acked, counted, reported). Set the queue's `max_retries` to at
   * least `maxAttempts` (or add a dead-letter queue), or Cloudflare drops it first without telling us.
   * @default { initialDelayMs: 2000, maxDelayMs: 300000, maxAttempts: 10 }
   */
  retry?: Partial<RetryPolicy>;
  /** Abort an upstream request after this long. @default 10000 */
  upstreamTimeoutMs?: number;
  fetch?: typeof fetch;
  /** Epoch ms. @default Date.now */
  now?: () => number;
  /** A number in [0, 1) for the backoff jitter. @default Math.random */
  random?: () => number;
  /** Called for every message given up, and for upstream failures. Errors it throws are swallowed. */
  onError?: (error: Error) => void;
  debug?: boolean;
}

/** What the consumer did, counted in messages. */
export interface QueueConsumerStats {
  delivered: number;
  retried: number;
  /** Messages given up: permanent 4xx, too many attempts, or not a relay message. */
  gaveUp: number;
  /** Events the upstream refused inside a 207 (each reported). */
  rejectedEvents: number;
}

export type QueueConsumer = ((batch: QueueBatch, env?: unknown, ctx?: unknown) => Promise<void>) & { stats(): QueueConsumerStats };

const int = (min: number) =>
  z.optional(z.number({ error: `must be an integer ≥ ${min}` }).check(z.refine((v) => Number.isInteger(v) && v >= min, { error: `must be an integer ≥ ${min}` })));
const fn = z.optional(z.custom<(...a: never[]) => unknown>((v) => typeof v === 'function', { error: 'must be a function' }));
const consumerSchema = z.strictObject({
  upstream: z.optional(upstreamSchema),
  retry: z.optional(z.strictObject({ initialDelayMs: int(0), maxDelayMs: int(0), maxAttempts: int(1) })),
  upstreamTimeoutMs: int(1),
  fetch: fn,
  now: fn,
  random: fn,
  onError: fn,
  debug: z.optional(z.boolean({ error: 'must be true or false' })),
});

/**
 * The Worker's `queue(batch, env, ctx)` handler for what createRelay({ queue }) queued: delivers each message
 * upstream; `ack()` on success; `retry({ delaySeconds })` honouring Retry-After (else backoff) on 408/429/5xx,
 * timeouts and network errors; gives up (ack + onError + counted) on a permanent 4xx or after maxAttempts.
 */
export function outboxQueueConsumer(options: QueueConsumerOptions = {}): QueueConsumer {
  const parsed = consumerSchema.safeParse(options);
  if (!parsed.success) throw new RelayOptionsError(describeIssues(parsed.error.issues, options, 'outboxQueueConsumer'));
  const o = options;
  const policy: RetryPolicy = { initialDelayMs: 2000, maxDelayMs: 300_000, maxAttempts: 10, ...(o.retry ?? {}) };
  const now = o.now ?? Date.now;
  const random = o.random ?? Math.random;
  const doFetch = o.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const stats: QueueConsumerStats = { delivered: 0, retried: 0, gaveUp: 0, rejectedEvents: 0 };
  const report = (message: string) => {
    if (o.debug) console.warn(`[outbox relay queue] ${message}`);
    callHost(o.onError, new Error(message));
  };

  /**
   * One message: delivered upstream, then `ack()` on success, `retry({ delaySeconds })` by Retry-After or backoff on
   * a retryable failure, or given up (ack, count, report) on a refusal or after maxAttempts.
   */
  async function handleMessage(msg: QueueMessage, upstream: UpstreamOptions): Promise<void> {
    if (!isRelayMessage(msg.body)) {
      stats.gaveUp++;
      report(`queue message ${msg.id ?? ''} is not an Outbox relay message: acked and dropped`);
      msg.ack();
      return;
    }
    const { wire, payload } = msg.body;
    const ids = wire === 'ingestion' ? ((payload as { batch?: { id?: unknown }[] }).batch ?? []).map((e) => String(e?.id)) : [];
    const result = await deliver(wire, JSON.stringify(payload), ids, { upstream, fetch: doFetch, timeoutMs: o.upstreamTimeoutMs ?? 10_000, now });
    const giveUp = (why: string) => {
      stats.gaveUp++;
      report(`gave up queue message ${msg.id ?? ''} (${wire}, attempt ${msg.attempts}): ${why}`);
      msg.ack();
    };
    const again = (network: boolean, retryAfterMs: number | undefined, why: string) => {
      const decision = msg.attempts >= policy.maxAttempts ? 'give-up' : nextRetry({ attempts: msg.attempts, failures: msg.attempts, network, retryAfterMs, random: random() }, policy);
      if (decision === 'give-up') return giveUp(`${why}; ${msg.attempts} attempts`);
      stats.retried++;
      if (o.debug) console.warn(`[outbox relay queue] retry ${msg.id ?? ''} in ${decision.delayMs} ms: ${why}`);
      msg.retry({ delaySeconds: Math.min(MAX_DELAY_SECONDS, Math.max(1, Math.ceil(decision.delayMs / 1000))) });
    };
    switch (result.kind) {
      case 'ok':
        stats.delivered++;
        msg.ack();
        return;
      case 'multi':
        for (const e of result.errors) report(`upstream refused event ${e.id}: ${e.message}`);
        stats.rejectedEvents += result.errors.length;
        // Langfuse stores a score by its id, so resending the whole message for the ids it asked to retry is safe.
        if (result.retry.length > 0) return again(false, undefined, `upstream asked to retry ${result.retry.length} event(s)`);
        stats.delivered++;
        msg.ack();
        return;
      case 'retry':
        return again(result.status === undefined, result.retryAfterMs, result.message);
      case 'too-large':
        return giveUp(`the upstream refused the body as too large: ${result.message}`);
      case 'rejected':
        return giveUp(`the upstream refused it: ${result.message}`);
    }
  }

  const consume = async (batch: QueueBatch, env?: unknown): Promise<void> => {
    const fromEnv = o.upstream ?? upstreamFromEnv(env) ?? upstreamFromEnv((globalThis as { process?: { env?: unknown } }).process?.env);
    if (fromEnv === undefined || fromEnv instanceof Error) {
      // Nothing can be delivered without an upstream: keep every message for after the configuration is fixed.
      report(fromEnv?.message ?? 'outboxQueueConsumer: no upstream (set LANGFUSE_BASE_URL, LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY)');
      for (const msg of batch.messages) msg.retry({ delaySeconds: 60 });
      return;
    }
    await Promise.all(
      batch.messages.map((msg) =>
        handleMessage(msg, fromEnv).catch((error: unknown) => {
          report(`queue message ${msg.id ?? ''}: ${String((error as Error)?.message ?? error)}`);
          msg.retry({ delaySeconds: 10 });
        }),
      ),
    );
  };
  return Object.assign(consume, { stats: () => ({ ...stats }) });
}

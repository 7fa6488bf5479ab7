import { nextRetry, type RetryPolicy } from '../core/retry';
import type { QueueConsumerOptions, QueueConsumerStats, QueueMessage } from './consumer';
import type { UpstreamOptions } from './options';
import { isRelayMessage } from './queue';
import { deliver } from './upstream';

/** Longest delay Cloudflare Queues accepts for a retry (12 hours). */
const MAX_DELAY_SECONDS = 43_200;

type Parts = {
  o: QueueConsumerOptions;
  policy: RetryPolicy;
  now: () => number;
  random: () => number;
  doFetch: typeof fetch;
  stats: QueueConsumerStats;
  report: (message: string) => void;
};

/**
 * The queue consumer's handling of one message: delivers it upstream, then `ack()` on success, `retry({ delaySeconds })`
 * by Retry-After or backoff on a retryable failure, or gives up (ack, count, report) on a refusal or after maxAttempts.
 */
export function createHandleMessage(parts: Parts): (msg: QueueMessage, upstream: UpstreamOptions) => Promise<void> {
  const { o, policy, now, random, doFetch, stats, report } = parts;
  return async function handleMessage(msg, upstream) {
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
}

import { nextRetry } from '../core/retry';
import type { DedupWindow } from './dedup';
import { utf8Length } from '../core/encode';
import type { Report } from './log';
import type { QueueProducer, ResolvedRelayOptions, UpstreamOptions } from './options';
import { enqueue, QUEUE_LIMITS } from '../wire/queue-message';
import { EVENT_KEY, type Records } from './records';
import type { Count } from './stats';
import type { Delivery } from './upstream';

type Send = (records: Records, keep: ReadonlySet<string>, upstream: UpstreamOptions) => Promise<Delivery>;
type Parts = { o: ResolvedRelayOptions; count: Count; dedup: DedupWindow; report: Report; send: Send };

/**
 * Delivers a beacon's records with retries, within `beaconRetry` (attempts and total time): to the queue when
 * there is one and the records fit its messages, else upstream. What is given up is counted and reported.
 */
export function createDeliverInBackground(parts: Parts) {
  const { o, count, dedup, report, send } = parts;
  const policy = o.beaconRetry;

  /** Queues the chunks, retrying with doubling delays; false when the records do not fit queue messages. */
  async function queueWithRetries(records: Records, keep: Set<string>, queue: QueueProducer, started: number, taken: Set<string>): Promise<boolean> {
    const chunks = records.chunk(keep, QUEUE_LIMITS.messageBytes);
    if (chunks === undefined) return false;
    for (let attempt = 1; ; attempt++) {
      try {
        await enqueue(queue, records.wire, chunks.map((c) => ({ body: c.body, bytes: utf8Length(c.body) })));
        dedup.remember(keep);
        for (const k of keep) taken.add(k);
        count('queued', keep.size);
        return true;
      } catch (error) {
        if (attempt >= policy.maxAttempts || o.now() - started >= policy.budgetMs) {
          count('beaconGaveUp', keep.size);
          report(new Error(`beacon: gave up queueing ${keep.size} record(s): ${String((error as Error)?.message ?? error)}`));
          return true;
        }
        await o.sleep(Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1)));
      }
    }
  }

  /** Sends upstream until everything is taken or refused for good, backing off by nextRetry within the budget. */
  async function sendWithRetries(records: Records, keep: Set<string>, upstream: UpstreamOptions, started: number, taken: Set<string>): Promise<void> {
    let left = new Set(keep);
    for (let attempt = 1; left.size > 0; attempt++) {
      const d = await send(records, left, upstream);
      let retryAfterMs: number | undefined;
      if (d.kind === 'ok') {
        for (const k of left) taken.add(k);
        return;
      }
      if (d.kind === 'multi') {
        for (const id of d.taken) taken.add(EVENT_KEY + id);
        left = new Set(d.retry.map((id) => EVENT_KEY + id));
        if (left.size === 0) return;
      } else if (d.kind === 'retry') retryAfterMs = d.retryAfterMs;
      else return; // refused for good: counted and reported by send()
      const decision = nextRetry({ attempts: attempt, failures: attempt, network: false, retryAfterMs, random: Math.random() }, policy);
      const elapsed = o.now() - started;
      if (decision === 'give-up' || elapsed + decision.delayMs > policy.budgetMs) {
        count('beaconGaveUp', left.size);
        report(new Error(`beacon: gave up delivering ${left.size} record(s) after ${attempt} attempt(s): the upstream did not take them`));
        return;
      }
      await o.sleep(decision.delayMs);
    }
  }

  /** Resolves the keys the queue or the upstream took (what a shared dedup window marks as taken). */
  return async function deliverInBackground(records: Records, keep: Set<string>, upstream: UpstreamOptions, queue: QueueProducer | undefined): Promise<Set<string>> {
    const started = o.now();
    const taken = new Set<string>();
    if (queue && (await queueWithRetries(records, keep, queue, started, taken))) return taken;
    await sendWithRetries(records, keep, upstream, started, taken);
    return taken;
  };
}

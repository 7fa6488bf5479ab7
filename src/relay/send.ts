import type { DedupWindow } from './dedup';
import type { Log, Report } from './log';
import type { ResolvedRelayOptions, UpstreamOptions } from './options';
import { EVENT_KEY, type Records } from './records';
import type { Count, Reject } from './stats';
import { deliver, type Delivery } from './upstream';

type Parts = { o: ResolvedRelayOptions; count: Count; dedup: DedupWindow; reject: Reject; report: Report; log: Log };

/**
 * One upstream attempt for the records in `keep`: remembers and counts what was taken, counts failures and
 * refusals. After a 429 with Retry-After, every attempt is answered here (429, counted as held back) until it ran.
 */
export function createSend(parts: Parts): (records: Records, keep: ReadonlySet<string>, upstream: UpstreamOptions) => Promise<Delivery> {
  const { o, count, dedup, reject, report, log } = parts;
  /** Epoch ms before which nothing is forwarded: the upstream answered 429 with Retry-After. */
  let holdUntil = 0;

  return async function send(records, keep, upstream) {
    const wait = holdUntil - o.now();
    if (wait > 0) {
      // The upstream asked everyone to wait (429 + Retry-After): answer from here instead of adding to its load.
      count('heldBack');
      return { kind: 'retry', status: 429, retryAfterMs: wait, message: 'holding off: the upstream asked to wait' };
    }
    const ids = records.wire === 'ingestion' ? [...keep].map(records.idOf) : [];
    const delivery = await deliver(records.wire, records.encode(keep), ids, { upstream, fetch: o.fetch, timeoutMs: o.upstreamTimeoutMs, now: o.now });
    switch (delivery.kind) {
      case 'ok':
        dedup.remember(keep);
        count('forwarded', keep.size);
        break;
      case 'multi': {
        const taken = delivery.taken.map((id) => EVENT_KEY + id);
        dedup.remember(taken);
        count('forwarded', taken.length);
        if (delivery.errors.length > 0) reject('upstream-rejected', delivery.errors.length);
        break;
      }
      case 'retry':
        count('upstreamFailures');
        // Langfuse's rate limit is per organization, for both routes: hold every request until Retry-After.
        if (delivery.status === 429 && delivery.retryAfterMs !== undefined) holdUntil = Math.max(holdUntil, o.now() + delivery.retryAfterMs);
        log(`upstream failure: ${delivery.message}`);
        if (delivery.status === 401 || delivery.status === 403) report(new Error(delivery.message));
        break;
      default:
        reject('upstream-rejected', keep.size);
        report(new Error(`upstream refused ${keep.size} record(s): ${delivery.message}`));
    }
    return delivery;
  };
}

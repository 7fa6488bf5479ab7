import { answer, answerDelivery } from './answers';
import type { createBackground } from './background';
import type { createClaims } from './claims';
import type { DedupWindow } from './dedup';
import type { EventError } from './ingestion';
import { utf8Length } from '../core/encode';
import type { Log, Report } from './log';
import type { QueueProducer, RelayContext, ResolvedRelayOptions, UpstreamOptions } from './options';
import { enqueue, QUEUE_LIMITS } from '../wire/queue-message';
import type { Records } from './records';
import type { Count } from './stats';
import type { Delivery } from './upstream';

type Parts = {
  o: ResolvedRelayOptions;
  count: Count;
  dedup: DedupWindow;
  claims: ReturnType<typeof createClaims>;
  background: ReturnType<typeof createBackground>;
  send: (records: Records, keep: ReadonlySet<string>, upstream: UpstreamOptions) => Promise<Delivery>;
  deliverInBackground: (records: Records, keep: Set<string>, upstream: UpstreamOptions, queue: QueueProducer | undefined) => Promise<void>;
  report: Report;
  log: Log;
};

/**
 * Forwards admitted records and answers the page: duplicates acknowledged without forwarding, fresh keys claimed
 * while in flight, beacons accepted (202) and delivered in the background, else queued (202) or sent upstream.
 */
export function createForward(parts: Parts) {
  const { o, count, dedup, claims, background, send, deliverInBackground, report, log } = parts;

  /** Queues the fresh records and answers 202 (503 if the queue fails); undefined when a record is too large for a message. */
  async function queueNow(records: Records, keep: Set<string>, fresh: string[], seen: string[], queue: QueueProducer, cors: Record<string, string>): Promise<Response | undefined> {
    const chunks = records.chunk(keep, QUEUE_LIMITS.messageBytes);
    if (chunks === undefined) return undefined;
    try {
      await enqueue(queue, records.wire, chunks.map((c) => ({ body: c.body, bytes: utf8Length(c.body) })));
    } catch (error) {
      report(new Error(`queue.send failed: ${String((error as Error)?.message ?? error)}`));
      return answer(503, { message: 'the relay could not queue the records: retry later' }, { ...cors, 'Retry-After': String(o.retryAfterSeconds) });
    }
    dedup.remember(fresh);
    count('queued', fresh.length);
    const queued = { 'Outbox-Queued': '1' };
    if (records.wire === 'otlp') return answer(202, { partialSuccess: {} }, { ...cors, ...queued });
    if (records.errors.length > 0) return multi(records, [...fresh, ...seen], records.errors, cors, 202);
    return answer(202, { successes: [...fresh, ...seen].map((k) => ({ id: records.idOf(k), status: 202 })), errors: [] }, { ...cors, ...queued });
  }

  return async function forward(records: Records, upstream: UpstreamOptions, queue: QueueProducer | undefined, beacon: boolean, ctx: RelayContext | undefined, cors: Record<string, string>): Promise<Response> {
    const unique = [...new Set(records.keys)];
    count('received', records.keys.length);
    const { fresh, free } = await claims.claim(unique);
    const keep = new Set(fresh);
    const seen = unique.filter((k) => !keep.has(k));
    const duplicates = records.keys.length - fresh.length;
    count('duplicates', duplicates);
    if (duplicates > 0) log(`${duplicates} duplicate record(s) acknowledged without forwarding`);
    if (fresh.length === 0) return records.wire === 'otlp' ? answer(200, { partialSuccess: {} }, cors) : multi(records, seen, records.errors, cors);

    if (beacon) {
      // Nobody reads a beacon's answer: accept now, deliver in the background within a bounded budget.
      background.run(deliverInBackground(records, keep, upstream, queue).catch(report).finally(free), ctx);
      return answer(202, { message: 'accepted' }, cors);
    }
    try {
      if (queue) {
        const queued = await queueNow(records, keep, fresh, seen, queue, cors);
        if (queued) return queued;
        log('a record is too large for a queue message: forwarding this request directly');
      }
      const delivery = await send(records, keep, upstream);
      return answerDelivery(delivery, records, fresh, seen, cors, o.retryAfterSeconds);
    } finally {
      free();
    }
  };
}

/** An ingestion 207: these keys taken (with `status`), these events refused. */
function multi(records: Records, taken: string[], errors: EventError[], cors: Record<string, string>, status = 201): Response {
  return answer(207, { successes: taken.map((k) => ({ id: records.idOf(k), status })), errors }, cors);
}

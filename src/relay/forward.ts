// Forwarding an admitted request and answering the page: duplicates acknowledged, fresh records claimed while in
// flight, then queued (202), sent upstream (the upstream's answer, passed on), or, for a beacon, accepted (202) and
// delivered in the background within a bounded budget.
import { enqueue, QUEUE_LIMITS } from '../wire/queue-message';
import { nextRetry } from '../core/retry';
import { utf8Length } from '../core/encode';
import type { Admitted } from './admit';
import { answer, answerDelivery, multi } from './answers';
import type { Claims } from './dedup';
import type { QueueProducer, RelayContext, ResolvedRelayOptions, UpstreamOptions } from './options';
import { EVENT_KEY, type Records } from './records';
import type { Tell } from './stats';
import { deliver, type Delivery } from './upstream';

/**
 * Forwards admitted records and answers the page: duplicates acknowledged without forwarding, fresh keys claimed
 * while in flight, beacons accepted (202) and delivered in the background, else queued (202) or sent upstream.
 */
export function createForward(o: ResolvedRelayOptions, tell: Tell, claims: Claims) {
  const { count, reject, report, log } = tell;
  /** Beacon deliveries still running (each also handed to the platform's waitUntil). */
  const background = new Set<Promise<void>>();
  /** Epoch ms before which nothing is forwarded: the upstream answered 429 with Retry-After. */
  let holdUntil = 0;
  const windowOn = o.dedupWindow.maxIds > 0 && o.dedupWindow.ttlMs > 0;

  /** Queues the fresh records and answers 202 (503 if the queue fails); undefined when a record is too large for a message. */
  async function queueNow(records: Records, keep: Set<string>, fresh: string[], seen: string[], queue: QueueProducer, cors: Record<string, string>): Promise<{ response: Response; queued: boolean } | undefined> {
    const chunks = records.chunk(keep, QUEUE_LIMITS.messageBytes);
    if (chunks === undefined) return undefined;
    try {
      await enqueue(queue, records.wire, chunks.map((c) => ({ body: c.body, bytes: utf8Length(c.body) })));
    } catch (error) {
      report(new Error(`queue.send failed: ${String((error as Error)?.message ?? error)}`));
      return { response: answer(503, { message: 'the relay could not queue the records: retry later' }, { ...cors, 'Retry-After': String(o.retryAfterSeconds) }), queued: false };
    }
    claims.remember(fresh);
    count('queued', fresh.length);
    const queued = { 'Outbox-Queued': '1' };
    if (records.wire === 'otlp') return { response: answer(202, { partialSuccess: {} }, { ...cors, ...queued }), queued: true };
    if (records.errors.length > 0) return { response: multi(records, [...fresh, ...seen], records.errors, cors, 202), queued: true };
    return { response: answer(202, { successes: [...fresh, ...seen].map((k) => ({ id: records.idOf(k), status: 202 })), errors: [] }, { ...cors, ...queued }), queued: true };
  }

  /** Forwards an admitted request's records (the queue and the shared window are looked up in this request's env). */
  async function forward(admitted: Admitted, env: unknown, ctx: RelayContext | undefined): Promise<Response> {
    const shared = windowOn ? o.dedupFor(env) : undefined;
    const queue = o.queueFor(env);
    const { upstream, beacon, cors } = admitted;
    let records = admitted.records;
    const unique = [...new Set(records.keys)];
    count('received', records.keys.length);
    const { fresh, busy, free } = await claims.claim(unique, shared, beacon);
    const keep = new Set(fresh);
    const elsewhere = new Set(busy);
    const seen = unique.filter((k) => !keep.has(k) && !elsewhere.has(k));
    const duplicates = records.keys.length - fresh.length - busy.length;
    /** Ends the claim; the shared window's settle call runs on under waitUntil (after the page's answer). */
    const settle = (taken: ReadonlySet<string>): Promise<void> => {
      const settled = free(taken);
      ctx?.waitUntil?.(settled);
      return settled;
    };
    count('duplicates', duplicates);
    if (duplicates > 0) log(`${duplicates} duplicate record(s) acknowledged without forwarding`);
    if (busy.length > 0) {
      log(`${busy.length} record(s) are being forwarded by another relay instance: ${beacon ? 'left to it' : 'the page is asked to retry them'}`);
      // Ingestion answers per event: a 503 for each busy one inside the 207 (the page retries those).
      if (records.wire === 'ingestion') {
        records = { ...records, errors: [...records.errors, ...busy.map((k) => ({ id: records.idOf(k), status: 503, message: 'another relay instance is forwarding this event: retry' }))] };
      }
    }
    /** OTLP has no per-record answer: with records held elsewhere, a success becomes "retry" (the resend is deduplicated). */
    const retryBusy = (response: Response): Response =>
      busy.length > 0 && records.wire === 'otlp' && response.status < 300
        ? answer(503, { message: `${busy.length} span(s) are being forwarded by another relay instance: retry` }, { ...cors, 'Retry-After': String(o.retryAfterSeconds) })
        : response;
    if (fresh.length === 0) {
      void settle(keep);
      return retryBusy(records.wire === 'otlp' ? answer(200, { partialSuccess: {} }, cors) : multi(records, seen, records.errors, cors));
    }

    if (beacon) {
      // Nobody reads a beacon's answer: accept now, deliver in the background within a bounded budget.
      const task = deliverInBackground(records, keep, upstream, queue).then(settle, (error: unknown) => {
        report(error);
        return settle(new Set());
      });
      background.add(task);
      void task.finally(() => background.delete(task));
      ctx?.waitUntil?.(task);
      return answer(202, { message: 'accepted' }, cors);
    }
    let taken: ReadonlySet<string> = new Set();
    try {
      if (queue) {
        const queued = await queueNow(records, keep, fresh, seen, queue, cors);
        if (queued) {
          if (queued.queued) taken = keep;
          return retryBusy(queued.response);
        }
        log('a record is too large for a queue message: forwarding this request directly');
      }
      const delivery = await send(records, keep, upstream);
      if (delivery.kind === 'ok') taken = keep;
      else if (delivery.kind === 'multi') taken = new Set(delivery.taken.map((id) => EVENT_KEY + id));
      return retryBusy(answerDelivery(delivery, records, fresh, seen, cors, o.retryAfterSeconds));
    } finally {
      void settle(taken);
    }
  }

  /**
   * One upstream attempt for the records in `keep`: remembers and counts what was taken, counts failures and
   * refusals. After a 429 with Retry-After, every attempt is answered here (429, counted as held back) until it ran.
   */
  async function send(records: Records, keep: ReadonlySet<string>, upstream: UpstreamOptions): Promise<Delivery> {
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
        claims.remember(keep);
        count('forwarded', keep.size);
        break;
      case 'multi': {
        const taken = delivery.taken.map((id) => EVENT_KEY + id);
        claims.remember(taken);
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
  }

  // A beacon's records are delivered with retries, within `beaconRetry` (attempts and total time): to the queue
  // when there is one and the records fit its messages, else upstream. What is given up is counted and reported.

  /** Queues the chunks, retrying with doubling delays; false when the records do not fit queue messages. */
  async function queueWithRetries(records: Records, keep: Set<string>, queue: QueueProducer, started: number, taken: Set<string>): Promise<boolean> {
    const chunks = records.chunk(keep, QUEUE_LIMITS.messageBytes);
    if (chunks === undefined) return false;
    for (let attempt = 1; ; attempt++) {
      try {
        await enqueue(queue, records.wire, chunks.map((c) => ({ body: c.body, bytes: utf8Length(c.body) })));
        claims.remember(keep);
        for (const k of keep) taken.add(k);
        count('queued', keep.size);
        return true;
      } catch (error) {
        if (attempt >= o.beaconRetry.maxAttempts || o.now() - started >= o.beaconRetry.budgetMs) {
          count('beaconGaveUp', keep.size);
          report(new Error(`beacon: gave up queueing ${keep.size} record(s): ${String((error as Error)?.message ?? error)}`));
          return true;
        }
        await o.sleep(Math.min(o.beaconRetry.maxDelayMs, o.beaconRetry.initialDelayMs * 2 ** (attempt - 1)));
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
      const decision = nextRetry({ attempts: attempt, failures: attempt, network: false, retryAfterMs, random: Math.random() }, o.beaconRetry);
      const elapsed = o.now() - started;
      if (decision === 'give-up' || elapsed + decision.delayMs > o.beaconRetry.budgetMs) {
        count('beaconGaveUp', left.size);
        report(new Error(`beacon: gave up delivering ${left.size} record(s) after ${attempt} attempt(s): the upstream did not take them`));
        return;
      }
      await o.sleep(decision.delayMs);
    }
  }

  /** Resolves the keys the queue or the upstream took (what a shared dedup window marks as taken). */
  async function deliverInBackground(records: Records, keep: Set<string>, upstream: UpstreamOptions, queue: QueueProducer | undefined): Promise<Set<string>> {
    const started = o.now();
    const taken = new Set<string>();
    if (queue && (await queueWithRetries(records, keep, queue, started, taken))) return taken;
    await sendWithRetries(records, keep, upstream, started, taken);
    return taken;
  }

  return {
    forward,
    /** Beacon deliveries still running. */
    get background(): number {
      return background.size;
    },
    /** Resolves once every background delivery started so far (and any started meanwhile) has settled. */
    async idle(): Promise<void> {
      while (background.size > 0) await Promise.all([...background]);
    },
  };
}


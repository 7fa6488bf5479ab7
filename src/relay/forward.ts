import { answer, answerDelivery } from './answers';
import type { createBackground } from './background';
import type { createClaims } from './claims';
import type { DedupWindow } from './dedup';
import type { DedupNamespace } from './dedup-shared';
import type { EventError } from './ingestion';
import { utf8Length } from '../core/encode';
import type { Log, Report } from './log';
import type { QueueProducer, RelayContext, ResolvedRelayOptions, UpstreamOptions } from './options';
import { enqueue, QUEUE_LIMITS } from '../wire/queue-message';
import { EVENT_KEY, type Records } from './records';
import type { Count } from './stats';
import type { Delivery } from './upstream';

/** A claim's lease beyond the forwarding's own timeout (the settle call, a slow queue), and the object's largest. */
const LEASE_MARGIN_MS = 10_000;
const MAX_LEASE_MS = 600_000;

type Parts = {
  o: ResolvedRelayOptions;
  count: Count;
  dedup: DedupWindow;
  claims: ReturnType<typeof createClaims>;
  background: ReturnType<typeof createBackground>;
  send: (records: Records, keep: ReadonlySet<string>, upstream: UpstreamOptions) => Promise<Delivery>;
  deliverInBackground: (records: Records, keep: Set<string>, upstream: UpstreamOptions, queue: QueueProducer | undefined) => Promise<Set<string>>;
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
  async function queueNow(records: Records, keep: Set<string>, fresh: string[], seen: string[], queue: QueueProducer, cors: Record<string, string>): Promise<{ response: Response; queued: boolean } | undefined> {
    const chunks = records.chunk(keep, QUEUE_LIMITS.messageBytes);
    if (chunks === undefined) return undefined;
    try {
      await enqueue(queue, records.wire, chunks.map((c) => ({ body: c.body, bytes: utf8Length(c.body) })));
    } catch (error) {
      report(new Error(`queue.send failed: ${String((error as Error)?.message ?? error)}`));
      return { response: answer(503, { message: 'the relay could not queue the records: retry later' }, { ...cors, 'Retry-After': String(o.retryAfterSeconds) }), queued: false };
    }
    dedup.remember(fresh);
    count('queued', fresh.length);
    const queued = { 'Outbox-Queued': '1' };
    if (records.wire === 'otlp') return { response: answer(202, { partialSuccess: {} }, { ...cors, ...queued }), queued: true };
    if (records.errors.length > 0) return { response: multi(records, [...fresh, ...seen], records.errors, cors, 202), queued: true };
    return { response: answer(202, { successes: [...fresh, ...seen].map((k) => ({ id: records.idOf(k), status: 202 })), errors: [] }, { ...cors, ...queued }), queued: true };
  }

  /** Lease and wait of a shared claim: a forwarding holds its keys at most this long (the relay's own bounds). */
  const syncLease = o.upstreamTimeoutMs + LEASE_MARGIN_MS;
  const beaconLease = Math.min(MAX_LEASE_MS, o.beaconRetry.budgetMs + o.upstreamTimeoutMs + LEASE_MARGIN_MS);

  return async function forward(records: Records, upstream: UpstreamOptions, queue: QueueProducer | undefined, shared: DedupNamespace | undefined, beacon: boolean, ctx: RelayContext | undefined, cors: Record<string, string>): Promise<Response> {
    const unique = [...new Set(records.keys)];
    count('received', records.keys.length);
    const target = shared && { namespace: shared, leaseMs: Math.min(MAX_LEASE_MS, beacon ? beaconLease : syncLease), waitMs: Math.min(MAX_LEASE_MS, o.upstreamTimeoutMs) };
    const { fresh, busy, free } = await claims.claim(unique, target);
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
      background.run(task, ctx);
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
  };
}

/** An ingestion 207: these keys taken (with `status`), these events refused. */
function multi(records: Records, taken: string[], errors: EventError[], cors: Record<string, string>, status = 201): Response {
  return answer(207, { successes: taken.map((k) => ({ id: records.idOf(k), status })), errors }, cors);
}

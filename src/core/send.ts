import { utf8Length } from './encode';
import { errorText } from './errors';
import { cutBatch } from './batcher';
import { drop, forget, batchRoom, sealAndPersist } from './intake';
import { outcomeOf } from './outcome';
import type { Batch } from './batches';
import type { Core, Queued } from './state';
import type { EventQueue } from './queue';
import type { FlushReason, SendResult, StoredEvent } from './types';
import type { WireName } from '../core/types';

/** Requests in flight at once. Browsers queue more than 6 per host anyway (HTTP/1.1). */
export const MAX_CONCURRENT_REQUESTS = 4;

/** Everything queued up to now is due: the next pumps send it whatever its count. */
export function requestFlush(core: Core, reason: FlushReason): void {
  core.flushTarget = core.seq;
  core.report.lastFlushReason = reason;
  pump(core);
}

function expireFrom(core: Core, events: StoredEvent[], now: number): StoredEvent[] {
  const maxAge = core.options.maxEventAgeMs;
  const live = events.filter((e) => now - e.ts <= maxAge);
  if (live.length < events.length) {
    const old = events.filter((e) => now - e.ts > maxAge);
    drop(core, 'expired', old, `older than maxEventAgeMs (${maxAge})`);
    forget(core, old);
  }
  return live;
}

/** The next formed batch (retries, splits, recovered) that can still be sent. */
function nextFormed(core: Core, now: number): Batch | undefined {
  for (let batch = core.retries.shift(); batch; batch = core.retries.shift()) {
    if (!core.wires[batch.wire]) {
      drop(core, 'invalid', batch.events, `no ${batch.wire} endpoint is configured for these stored records`);
      forget(core, batch.events);
      continue;
    }
    const live = expireFrom(core, batch.events, now);
    if (live.length > 0) return { ...batch, events: live };
  }
  return undefined;
}

/** Next batch to send: formed batches first, then the wire queue whose oldest record is due. */
export function nextBatch(core: Core, now: number): Batch | undefined {
  const formed = nextFormed(core, now);
  if (formed) return formed;
  const { options } = core;
  let best: { wire: WireName; queue: EventQueue; count: number; head: Queued; due: 'count' | 'bytes' | false } | undefined;
  for (const [name, queue] of core.queues) {
    while (queue.size > 0 && now - queue.peek()!.ts > options.maxEventAgeMs) expireFrom(core, queue.take(1) as StoredEvent[], now);
    const wire = core.wires[name];
    if (!wire || queue.size === 0) continue;
    const cut = cutBatch(queue, { maxEvents: options.maxBatchEvents, maxChars: batchRoom(core, wire), flushAt: options.flushAt });
    const head = queue.peek()!;
    if (cut.count === 0 || (!cut.due && head.seq > core.flushTarget)) continue;
    if (!best || head.seq < best.head.seq) best = { wire: name, queue, count: cut.count, head, due: cut.due };
  }
  if (!best) return undefined;
  if (best.head.seq > core.flushTarget && best.due) {
    core.report.lastFlushReason = best.due;
    // A count trigger covers every whole flushAt of records queued now, in batches of maxBatchEvents (a flushAt
    // above maxBatchEvents still sends all of it); a remainder under flushAt waits for the timer, as a trickle does.
    if (best.due === 'count') {
      const covered = best.queue.size - (best.queue.size % options.flushAt);
      core.flushTarget = Math.max(core.flushTarget, best.queue.peek(covered - 1)!.seq);
    }
  }
  const events = best.queue.take(best.count) as (StoredEvent & { seq: number })[];
  return { batchId: core.uuid(), wire: best.wire, events, minSeq: events[0]!.seq, attempts: 0 };
}

/** Starts as many sends as allowed. Synchronous; called whenever the state changes. */
export function pump(core: Core): void {
  if (core.stopped) return;
  try {
    sealAndPersist(core);
    while (core.inflight.size < MAX_CONCURRENT_REQUESTS) {
      const now = core.clock.now();
      if (!core.ignoreGate && core.scheduler.gatedFor(now) > 0) break;
      const batch = nextBatch(core, now);
      if (!batch) break;
      start(core, batch);
    }
  } catch (error) {
    core.report.error(error);
  }
  settleWaiters(core);
}

function start(core: Core, batch: Batch): void {
  core.inflight.add(batch);
  core.report.counts.requests++;
  const work = send(core, batch)
    .catch((error): SendResult => {
      core.report.error(error);
      return { kind: 'retry', network: true, error: errorText(error) };
    })
    .then((result) => {
      // Out of flight in the same step that settles it: its records are never counted twice.
      core.inflight.delete(batch);
      settle(core, batch, result);
    })
    .catch((error) => core.report.error(error))
    .finally(() => {
      core.inflightWork.delete(work);
      pump(core);
    });
  core.inflightWork.add(work);
  core.waitUntil?.(work);
}

async function send(core: Core, batch: Batch): Promise<SendResult> {
  const wire = core.wires[batch.wire]!;
  let body = wire.encodeBatch(batch.batchId, batch.events);
  let bytes = utf8Length(body);
  // Measured once per batch: multi-byte text can push a batch cut by characters over the byte limit.
  while (bytes > core.options.maxBatchBytes && batch.events.length > 1) {
    const rest = batch.events.splice(Math.ceil(batch.events.length / 2));
    core.retries.unshift({ batchId: core.uuid(), wire: batch.wire, events: rest, minSeq: batch.minSeq, attempts: batch.attempts });
    body = wire.encodeBatch(batch.batchId, batch.events);
    bytes = utf8Length(body);
  }
  core.report.log(`sending batch ${batch.batchId}: ${batch.events.length} record(s), ${bytes} bytes`);
  return core.transport.send({ batchId: batch.batchId, wire, events: batch.events, body, bytes });
}

/** Carries out what an answer means for a batch's records (see outcome.ts). */
export function settle(core: Core, batch: Batch, result: SendResult): void {
  const { report } = core;
  const out = outcomeOf(batch.events, result, { attempts: batch.attempts, failures: core.failures, random: core.random(), policy: core.options.retry });
  core.failures = out.failures;
  if (out.error !== undefined) {
    report.lastError = out.error;
    if (result.kind === 'retry') report.log(`send failed: ${out.error}`);
  }
  report.counts.sent += out.sent.length;
  report.counts.handedOff += out.handedOff.length;
  forget(core, out.sent);
  forget(core, out.handedOff);
  for (const d of out.drops) {
    drop(core, d.reason, d.events, d.detail);
    forget(core, d.events);
  }
  for (const part of [...out.split].reverse()) {
    core.retries.unshift({ batchId: core.uuid(), wire: batch.wire, events: part, minSeq: batch.minSeq, attempts: batch.attempts });
  }
  if (!out.retry) return;
  const { events, attempts, delayMs } = out.retry;
  report.counts.retried += events.length;
  if (core.closed) {
    core.parked.push(...events); // shutdown gives each batch one attempt; what fails waits for the next start
    return;
  }
  core.retries.push({ batchId: core.uuid(), wire: batch.wire, events, minSeq: Infinity, attempts });
  core.scheduler.closeGateUntil(core.clock.now() + delayMs);
  report.log(`retrying ${events.length} record(s) in ${delayMs} ms`);
}

/** Resolves the flushes whose records have all been answered (or re-queued). */
export function settleWaiters(core: Core): void {
  if (core.waiters.size === 0) return;
  let headSeq = Infinity;
  for (const q of core.queues.values()) headSeq = Math.min(headSeq, q.peek()?.seq ?? Infinity);
  let inflightMin = Infinity;
  for (const b of core.inflight) inflightMin = Math.min(inflightMin, b.minSeq);
  // Split halves of a batch a flush covers keep its seq; batches re-queued after a failure do not.
  const pendingMin = Math.min(headSeq, inflightMin, core.retries.minSeq());
  const blocked = core.stopped || (!core.ignoreGate && core.scheduler.gatedFor(core.clock.now()) > 0);
  core.waiters.settle(pendingMin, inflightMin, blocked);
}

// The client core: one closure owns every record it holds — unbatched in a queue per wire, formed batches waiting
// (retries, split halves, recovered and put-back records), batches in a request, records parked at shutdown — with
// the sequence numbers, the flush target and the send loop's flags. Counts of records are read off the
// collections that hold them, never kept beside them; the counters live in the report (report.ts), which alone
// changes them. Parts without state of their own stay in their files: the queue and batch list (queue.ts,
// batches.ts), the scheduler, the flush waiters, the pure outcome of an answer (outcome.ts) and record sealing
// (record.ts). The entries reach the core through `outbox` and the narrow doors of hooks.ts.
import { createBatchList, cutBatch, recordsIn, type Batch } from './batches';
import { utf8Length } from './encode';
import { errorText, safeString } from './errors';
import type { ClientHooks, NewRecord } from './hooks';
import { outcomeOf } from './outcome';
import { probing } from './retry';
import type { ResolvedOptions } from './options';
import { createEventQueue, type EventQueue } from './queue';
import { checkRecord, parseTimestamp, sealRecord } from './record';
import { createReport } from './report';
import { createScheduler } from './scheduler';
import type { Clock, CoreOutbox, DropReason, FlushReason, OutboxStats, QueuedEvent, SendResult, Storage, StoredEvent, TrackOptions, Transport, Wire, WireName } from './types';
import { createFlushWaiters } from './waiters';

export type { ClientHooks, LeaveHooks, RecoveryHooks } from './hooks';

/** Requests in flight at once. Browsers queue more than 6 per host anyway (HTTP/1.1). */
const MAX_CONCURRENT_REQUESTS = 4;
/** Room kept in a batch for the envelope, at least: a wire's own measure may be smaller. */
const ENVELOPE_RESERVE = 512;

/** The platform parts an entry plugs into the core. */
export interface Platform {
  transport: Transport;
  /** The wires records travel on, by name; a record whose wire is missing is dropped 'invalid'. */
  wires: Partial<Record<WireName, Wire>>;
  /** Durable mirror of the queue; none means memory only. */
  storage?: Storage;
  clock: Clock;
  /** v4 UUID factory. */
  uuid: () => string;
  /** Uniform [0, 1) for jitter. @default Math.random */
  random?: () => number;
  /** Where debug lines and warnings go. @default console */
  logger?: Pick<Console, 'debug' | 'warn'>;
  /** Arm the flushInterval timer. Workers turn it off: no timer may outlive a request. @default true */
  timers?: boolean;
  /** Receives every send's promise (Workers: ctx.waitUntil). */
  waitUntil?: (work: Promise<unknown>) => void;
  /** Told of every queued record, whatever API queued it. */
  onQueued?: () => void;
  /**
   * Queues a task of its own for the client after the caller's (a page: `messageTask()`): the write-ahead and the
   * sends a `track()` or `end()` sets off run there instead of at the end of the caller's task. @default none
   */
  nextTask?: (run: () => void) => void;
  /** Called once when shutdown() has finished sending, before storage closes: detach listeners. */
  onShutdown?: () => void;
}

/** A queued record with its place in the client's order (flush() waits by it). */
type Queued = QueuedEvent & { seq: number };

/** Builds the client over the given platform: its public object and the doors the parts above it use. */
export function createClient(options: ResolvedOptions, platform: Platform): { outbox: CoreOutbox; hooks: ClientHooks } {
  const { clock, transport, wires, storage, uuid, waitUntil, onQueued } = platform;
  const random = platform.random ?? Math.random;
  const report = createReport(options, platform.logger ?? console);
  const waiters = createFlushWaiters();

  // ---- the records ----
  /** Unbatched records, one FIFO per wire. */
  const queues = new Map<WireName, EventQueue>();
  /** Formed batches waiting to be sent: retries, split halves, recovered and put-back records. */
  const retries = createBatchList();
  const inflight = new Set<Batch>();
  const inflightWork = new Set<Promise<void>>();
  /** Records sealed at the end of the caller's task, written ahead in the client's own task (platform.nextTask). */
  const unwritten: StoredEvent[] = [];
  /** Records whose last chance at shutdown failed: kept in storage (if durable) for the next start. */
  const parked: StoredEvent[] = [];
  /** The last seq given out, and the seq up to which a flush asked for everything to go. */
  let seq = 0;
  let flushTarget = 0;
  /** Consecutive failed sends (the backoff exponent). */
  let failures = 0;
  /** shutdown() was called: new records are dropped. */
  let closed = false;
  /** shutdown() is over: nothing is sent any more. */
  let stopped = false;
  /** shutdown() gives everything one attempt, backoff or not. */
  let ignoreGate = false;

  const scheduler = createScheduler({
    clock,
    timers: platform.timers !== false,
    intervalMs: options.flushInterval * 1000,
    onEndOfTask() {
      try {
        // With a task of its own (a page), the caller's task pays only for sealing what holds the caller's objects
        // (a track() body, sealed as the task left it); spans, built whole from copies at end() (trace/), are
        // sealed there with the write-ahead and the sends.
        const own = stopped ? undefined : platform.nextTask;
        seal(own && 'otlp');
        report.flushDrops();
        if (own) own(pump);
        else {
          writeAhead();
          if (stopped) return;
          pump();
        }
        if (unbatched() > 0) scheduler.armInterval();
      } catch (error) {
        report.error(error);
      }
    },
    onInterval: () => requestFlush('timer'),
    onGateOpen() {
      report.flushReason('retry');
      pump();
    },
  });

  // ---- counts, read off the collections ----
  function queueOf(wire: WireName): EventQueue {
    let q = queues.get(wire);
    if (!q) queues.set(wire, (q = createEventQueue()));
    return q;
  }

  /** Records not yet cut into a batch. */
  function unbatched(): number {
    let n = 0;
    for (const q of queues.values()) n += q.size;
    return n;
  }

  /** Records waiting to be sent (`stats().queued`). */
  const queuedCount = () => unbatched() + retries.records + parked.length;
  /** Every record the client holds: what maxQueueEvents bounds. */
  const heldCount = () => queuedCount() + recordsIn(inflight);

  // ---- intake: validate, queue, seal, write ahead ----
  /** Characters of record lines one batch of this wire may carry. */
  const batchRoom = (wire: Wire) => options.maxBatchBytes - Math.max(ENVELOPE_RESERVE, wire.envelopeBytes);

  /** Counts a drop; `onDrop` hears of it at the end of the task. */
  function drop(reason: DropReason, records: readonly { id: string; type: string }[], detail?: string): void {
    if (report.drop(reason, records, detail)) scheduler.endOfTask();
  }

  function enqueue(record: Queued): boolean {
    if (heldCount() >= options.maxQueueEvents) {
      drop('queue-full', [record], `maxQueueEvents (${options.maxQueueEvents}) reached`);
      return false;
    }
    queueOf(record.wire ?? 'ingestion').push(record);
    scheduler.endOfTask();
    onQueued?.();
    return true;
  }

  /** `outbox.track()`: validates and queues a raw ingestion event. Never throws; '' when it was dropped. */
  function track(type: string, body?: unknown, opts?: TrackOptions): string {
    report.count('tracked');
    try {
      const id = opts?.id === undefined ? uuid() : opts.id;
      if (closed) {
        drop('shutdown', [{ id: safeString(id), type: safeString(type) }]);
        return '';
      }
      const invalid = checkRecord(type, id);
      if (invalid) {
        drop('invalid', [{ id: safeString(id), type: safeString(type) }], invalid);
        return '';
      }
      const ts = parseTimestamp(opts?.timestamp, clock.now());
      if (Number.isNaN(ts)) {
        drop('invalid', [{ id, type }], 'timestamp must be a Date, an ISO string or epoch ms');
        return '';
      }
      return enqueue({ id, type, ts, body, seq: ++seq }) ? id : '';
    } catch (error) {
      drop('invalid', [{ id: '', type: safeString(type) }], errorText(error));
      return '';
    }
  }

  /** Queues a record built by a layer above. Returns false when it was dropped. */
  function pushRecord(record: NewRecord): boolean {
    report.count('tracked');
    if (closed) {
      drop('shutdown', [record]);
      return false;
    }
    return enqueue({ id: record.id, type: record.type, ts: record.ts, body: record.body, wire: record.wire, seq: ++seq });
  }

  /** Serializes pending records of every wire but `skip`, adding them to `unwritten`; drops what cannot be sent. */
  function seal(skip?: WireName): void {
    for (const [name, queue] of queues) {
      if (name === skip) continue;
      const wire = wires[name];
      const limit = wire ? Math.min(options.maxEventBytes, batchRoom(wire)) : 0;
      queue.sealPending((record) => {
        const sealed = wire ? sealRecord(record, wire, limit) : { reason: 'invalid' as const, detail: `no ${name} endpoint is configured for this record` };
        record.body = undefined; // released either way: the queue keeps only text
        if ('reason' in sealed) {
          drop(sealed.reason, [record], sealed.detail);
          return false;
        }
        record.line = sealed.line;
        unwritten.push(record as StoredEvent);
        return true;
      });
    }
  }

  /** Writes records ahead to storage (one call per coalesced burst); a failure is reported, never thrown. */
  function persist(events: StoredEvent[]): void {
    if (!storage || events.length === 0) return;
    storage.append(events).catch((error) => report.error(new Error(`storage append failed; events stay in memory: ${errorText(error)}`)));
  }

  /** Writes ahead the records sealed but not yet written (their write waits for the client's own task). */
  const writeAhead = () => persist(unwritten.splice(0));

  /** Seals what is pending and writes it ahead, with what was sealed before and not written yet. */
  function sealAndPersist(): void {
    seal();
    writeAhead();
  }

  /** Forgets records that left the client (acknowledged, handed off, dropped). */
  function forget(events: StoredEvent[]): void {
    if (!storage || events.length === 0) return;
    storage.remove(events.map((e) => e.id)).catch((error) => report.error(new Error(`storage remove failed: ${errorText(error)}`)));
  }

  // ---- sending ----
  /** Everything queued up to now is due: the next pumps send it whatever its count. */
  function requestFlush(reason: FlushReason): void {
    flushTarget = seq;
    report.flushReason(reason);
    pump();
  }

  function expireFrom(events: StoredEvent[], now: number): StoredEvent[] {
    const maxAge = options.maxEventAgeMs;
    const live = events.filter((e) => now - e.ts <= maxAge);
    if (live.length < events.length) {
      const old = events.filter((e) => now - e.ts > maxAge);
      drop('expired', old, `older than maxEventAgeMs (${maxAge})`);
      forget(old);
    }
    return live;
  }

  /** The next formed batch (retries, splits, recovered) that can still be sent. */
  function nextFormed(now: number): Batch | undefined {
    for (let batch = retries.shift(); batch; batch = retries.shift()) {
      if (!wires[batch.wire]) {
        drop('invalid', batch.events, `no ${batch.wire} endpoint is configured for these stored records`);
        forget(batch.events);
        continue;
      }
      const live = expireFrom(batch.events, now);
      if (live.length > 0) return { ...batch, events: live };
    }
    return undefined;
  }

  /** Next batch to send: formed batches first, then the wire queue whose oldest record is due. */
  function nextBatch(now: number): Batch | undefined {
    const formed = nextFormed(now);
    if (formed) return formed;
    let best: { wire: WireName; queue: EventQueue; count: number; head: Queued; due: 'count' | 'bytes' | false } | undefined;
    for (const [name, queue] of queues) {
      while (queue.size > 0 && now - queue.peek()!.ts > options.maxEventAgeMs) expireFrom(queue.take(1) as StoredEvent[], now);
      const wire = wires[name];
      if (!wire || queue.size === 0) continue;
      const cut = cutBatch(queue, { maxEvents: options.maxBatchEvents, maxChars: batchRoom(wire), flushAt: options.flushAt });
      const head = queue.peek()!;
      if (cut.count === 0 || (!cut.due && head.seq > flushTarget)) continue;
      if (!best || head.seq < best.head.seq) best = { wire: name, queue, count: cut.count, head, due: cut.due };
    }
    if (!best) return undefined;
    if (best.head.seq > flushTarget && best.due) {
      report.flushReason(best.due);
      // A count trigger covers every whole flushAt of records queued now, in batches of maxBatchEvents (a flushAt
      // above maxBatchEvents still sends all of it); a remainder under flushAt waits for the timer, as a trickle does.
      if (best.due === 'count') {
        const covered = best.queue.size - (best.queue.size % options.flushAt);
        flushTarget = Math.max(flushTarget, best.queue.peek(covered - 1)!.seq);
      }
    }
    const events = best.queue.take(best.count) as (StoredEvent & { seq: number })[];
    return { batchId: uuid(), wire: best.wire, events, minSeq: events[0]!.seq, attempts: 0 };
  }

  /** Starts as many sends as allowed. Synchronous; called whenever the state changes. */
  function pump(): void {
    if (stopped) return;
    try {
      sealAndPersist();
      // Probing after a streak of failures (retry.ts): one request at a time.
      while (inflight.size < (probing(failures, options.retry) ? 1 : MAX_CONCURRENT_REQUESTS)) {
        const now = clock.now();
        if (!ignoreGate && scheduler.gatedFor(now) > 0) break;
        const batch = nextBatch(now);
        if (!batch) break;
        start(batch);
      }
    } catch (error) {
      report.error(error);
    }
    settleWaiters();
  }

  function start(batch: Batch): void {
    inflight.add(batch);
    report.count('requests');
    const work = send(batch)
      .catch((error): SendResult => {
        report.error(error);
        return { kind: 'retry', network: true, error: errorText(error) };
      })
      .then((result) => {
        // Out of flight in the same step that settles it: its records are never counted twice.
        inflight.delete(batch);
        settle(batch, result);
      })
      .catch((error) => report.error(error))
      .finally(() => {
        inflightWork.delete(work);
        pump();
      });
    inflightWork.add(work);
    waitUntil?.(work);
  }

  async function send(batch: Batch): Promise<SendResult> {
    const wire = wires[batch.wire]!;
    if (probing(failures, options.retry) && batch.events.length > 1) {
      // A probe carries one record; the rest go first in line, at once when it is answered (or as the next probe).
      retries.unshift({ batchId: uuid(), wire: batch.wire, events: batch.events.splice(1), minSeq: batch.minSeq, attempts: batch.attempts });
    }
    let body = wire.encodeBatch(batch.batchId, batch.events);
    let bytes = utf8Length(body);
    // Measured once per batch: multi-byte text can push a batch cut by characters over the byte limit.
    while (bytes > options.maxBatchBytes && batch.events.length > 1) {
      const rest = batch.events.splice(Math.ceil(batch.events.length / 2));
      retries.unshift({ batchId: uuid(), wire: batch.wire, events: rest, minSeq: batch.minSeq, attempts: batch.attempts });
      body = wire.encodeBatch(batch.batchId, batch.events);
      bytes = utf8Length(body);
    }
    report.log(`sending batch ${batch.batchId}: ${batch.events.length} record(s), ${bytes} bytes`);
    return transport.send({ batchId: batch.batchId, wire, events: batch.events, body, bytes });
  }

  /** Carries out what an answer means for a batch's records (see outcome.ts). */
  function settle(batch: Batch, result: SendResult): void {
    const out = outcomeOf(batch.events, result, { attempts: batch.attempts, failures, random: random(), policy: options.retry });
    failures = out.failures;
    if (out.error !== undefined) {
      report.failed(out.error);
      if (result.kind === 'retry') report.log(`send failed: ${out.error}`);
    }
    report.count('sent', out.sent.length);
    report.count('handedOff', out.handedOff.length);
    forget(out.sent);
    forget(out.handedOff);
    for (const d of out.drops) {
      drop(d.reason, d.events, d.detail);
      forget(d.events);
    }
    for (const part of [...out.split].reverse()) {
      retries.unshift({ batchId: uuid(), wire: batch.wire, events: part, minSeq: batch.minSeq, attempts: batch.attempts });
    }
    if (!out.retry) return;
    const { events, attempts, delayMs } = out.retry;
    report.count('retried', events.length);
    if (closed) {
      parked.push(...events); // shutdown gives each batch one attempt; what fails waits for the next start
      return;
    }
    retries.push({ batchId: uuid(), wire: batch.wire, events, minSeq: Infinity, attempts });
    scheduler.closeGateUntil(clock.now() + delayMs);
    report.log(`retrying ${events.length} record(s) in ${delayMs} ms`);
  }

  /** Resolves the flushes whose records have all been answered (or re-queued). */
  function settleWaiters(): void {
    if (waiters.size === 0) return;
    let headSeq = Infinity;
    for (const q of queues.values()) headSeq = Math.min(headSeq, q.peek()?.seq ?? Infinity);
    let inflightMin = Infinity;
    for (const b of inflight) inflightMin = Math.min(inflightMin, b.minSeq);
    // Split halves of a batch a flush covers keep its seq; batches re-queued after a failure do not.
    const pendingMin = Math.min(headSeq, inflightMin, retries.minSeq());
    const blocked = stopped || (!ignoreGate && scheduler.gatedFor(clock.now()) > 0);
    waiters.settle(pendingMin, inflightMin, blocked);
  }

  // ---- what the doors take and put back ----
  /** Removes and returns every queued record, formed batches first (they are older), then each wire's queue. */
  function takeQueued(): StoredEvent[] {
    sealAndPersist();
    const out: StoredEvent[] = [];
    for (const b of retries.drain()) out.push(...b.events);
    for (const q of queues.values()) out.push(...(q.take(q.size) as StoredEvent[]));
    return out;
  }

  /** The oldest queued records of one wire that fit `room(wire)`: formed batches first, then the oldest queue head. */
  function takeFront(room: (wire: Wire) => number): { wire: Wire; events: StoredEvent[] } | undefined {
    sealAndPersist();
    const batch = retries.shift();
    if (batch) {
      const wire = wires[batch.wire];
      const n = wire ? fitting(batch.events.length, (i) => batch.events[i]!.line, wire.envelopeBytes, room(wire)) : 0;
      if (n < batch.events.length) retries.unshift({ ...batch, events: batch.events.slice(n) });
      return n === 0 || !wire ? undefined : { wire, events: batch.events.slice(0, n) };
    }
    let oldest: { name: WireName; queue: EventQueue } | undefined;
    for (const [name, queue] of queues) {
      const head = queue.peek();
      if (head?.line !== undefined && (!oldest || head.seq < oldest.queue.peek()!.seq)) oldest = { name, queue };
    }
    const wire = oldest && wires[oldest.name];
    if (!oldest || !wire) return undefined;
    const q = oldest.queue;
    let sealed = 0;
    while (sealed < q.size && q.peek(sealed)!.line !== undefined) sealed++;
    const n = fitting(sealed, (i) => q.peek(i)!.line!, wire.envelopeBytes, room(wire));
    return n === 0 ? undefined : { wire, events: q.take(n) as StoredEvent[] };
  }

  /** Formed batches for records from outside a queue (recovered, put back): one wire each, at most `size` records. */
  function batchesOf(events: StoredEvent[], size: number): Batch[] {
    const byWire = new Map<WireName, StoredEvent[]>();
    for (const e of events) {
      const wire = e.wire ?? 'ingestion';
      const list = byWire.get(wire);
      if (list) list.push(e);
      else byWire.set(wire, [e]);
    }
    const out: Batch[] = [];
    for (const [wire, list] of byWire) {
      for (let i = 0; i < list.length; i += size) out.push({ batchId: uuid(), wire, events: list.slice(i, i + size), minSeq: Infinity, attempts: 0 });
    }
    return out;
  }

  // ---- flush and shutdown ----
  function flushWith(reason: FlushReason): Promise<void> {
    return new Promise<void>((resolve) => {
      try {
        sealAndPersist();
        report.flushDrops();
        waiters.add(seq, resolve);
        requestFlush(reason);
      } catch (error) {
        report.error(error);
        resolve();
      }
    });
  }

  /**
   * What shutdown() leaves behind: a record stays queued if it is committed to durable storage (the next start sends
   * it), and is dropped 'shutdown' otherwise — said, not lost silently.
   */
  function settleLeftovers(): void {
    const left = [...takeQueued(), ...parked.splice(0)];
    const kept = !storage ? [] : storage.isCommitted ? left.filter((e) => storage.isCommitted!(e.id)) : storage.durable ? left : [];
    const keptIds = new Set(kept.map((e) => e.id));
    drop('shutdown', left.filter((e) => !keptIds.has(e.id)), storage ? 'not delivered before shutdown, and not committed to storage' : 'not delivered before shutdown (memory storage)');
    for (const wire of new Set(kept.map((e) => e.wire ?? 'ingestion'))) {
      const events = kept.filter((e) => (e.wire ?? 'ingestion') === wire);
      retries.push({ batchId: uuid(), wire, events, minSeq: Infinity, attempts: 0 });
    }
  }

  /**
   * The shutdown sequence: one last attempt for everything (backoff or not), wait for sends in flight, stop the
   * scheduler, settle what is left, detach (`onShutdown`), close storage, release every flush waiter.
   */
  async function runShutdown(): Promise<void> {
    try {
      ignoreGate = true;
      await flushWith('shutdown');
      while (inflightWork.size > 0) await Promise.allSettled([...inflightWork]);
    } catch (error) {
      report.error(error);
    }
    stopped = true;
    scheduler.stop();
    settleLeftovers();
    report.flushDrops();
    try {
      platform.onShutdown?.();
      await storage?.close();
    } catch (error) {
      report.error(error);
    }
    waiters.releaseAll();
  }

  function stats(): OutboxStats {
    const { counts, dropped, lastFlushReason, lastError } = report.snapshot();
    return {
      tracked: counts.tracked,
      recovered: counts.recovered,
      queued: queuedCount(),
      inflight: recordsIn(inflight),
      sent: counts.sent,
      handedOff: counts.handedOff,
      retried: counts.retried,
      requests: counts.requests,
      dropped,
      durable: storage ? (storage.durableNow?.() ?? storage.durable) : false,
      lastFlushReason,
      lastError,
    };
  }

  let shutdownPromise: Promise<void> | null = null;
  const outbox: CoreOutbox = {
    track,
    flush: () => (stopped ? Promise.resolve() : flushWith('manual')),
    shutdown() {
      closed = true;
      return (shutdownPromise ??= runShutdown());
    },
    stats,
  };

  const hooks: ClientHooks = {
    options,
    wires,
    takeQueued,
    takeFront,
    queuedCount,
    inflightIds: () => [...inflight].flatMap((b) => b.events.map((e) => e.id)),
    held() {
      sealAndPersist();
      const out: StoredEvent[] = [];
      for (const b of inflight) out.push(...b.events);
      for (const b of retries) out.push(...b.events);
      for (const q of queues.values()) for (let i = 0; i < q.size; i++) out.push(q.peek(i) as StoredEvent);
      return out;
    },
    putBack(events) {
      for (const b of batchesOf(events, events.length || 1).reverse()) retries.unshift(b);
    },
    settle(events, how, keepStored) {
      report.count(how === 'sent' ? 'sent' : 'handedOff', events.length);
      if (!keepStored) forget(events);
      settleWaiters();
    },
    answer(events, result) {
      if (events.length === 0) return;
      for (const b of batchesOf(events, events.length)) settle(b, result);
      pump();
    },
    enqueueRecovered(events) {
      if (events.length === 0 || stopped) return;
      report.count('recovered', events.length);
      for (const b of batchesOf(events, options.maxBatchEvents)) retries.push(b);
      report.flushReason('recovery');
      pump();
    },
    room: () => options.maxQueueEvents - heldCount(),
    kick(reason) {
      scheduler.openGate();
      requestFlush(reason);
    },
    push: pushRecord,
    dropInput(reason, records, detail) {
      report.count('tracked', records.length);
      drop(reason, records, detail);
    },
    log: report.log,
    warnOnce: report.warnOnce,
  };
  return { outbox, hooks };
}

/** How many of `lines` (from the front) fit in `room` bytes after the envelope. */
function fitting(count: number, lineAt: (i: number) => string, envelope: number, room: number): number {
  let bytes = envelope;
  let n = 0;
  while (n < count) {
    const size = utf8Length(lineAt(n)) + 1;
    if (bytes + size > room) break;
    bytes += size;
    n++;
  }
  return n;
}

import { createEventQueue } from './queue';
import { encodeBatch, encodeEvent, encodeMetadata, utf8Length } from './encode';
import { nextRetry } from './retry';
import type { ResolvedOptions } from './options';
import {
  DROP_REASONS,
  type Clock,
  type DropInfo,
  type DropReason,
  type FlushReason,
  type Outbox,
  type OutboxStats,
  type SendResult,
  type Storage,
  type StoredEvent,
  type TrackOptions,
  type Transport,
} from './types';

/** The platform parts an entry plugs into the core. */
export interface Platform {
  transport: Transport;
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
  /** Called once when shutdown() has finished sending: detach listeners. */
  onShutdown?: () => void;
}

/** Requests in flight at once. Browsers queue more than 6 per host anyway (HTTP/1.1). */
export const MAX_CONCURRENT_REQUESTS = 4;
/** Room kept in a batch for the envelope and metadata. */
const ENVELOPE_RESERVE = 512;

interface Batch {
  batchId: string;
  events: StoredEvent[];
  /** Smallest seq in the batch; Infinity for recovered or re-queued events (no flush() waits on them). */
  minSeq: number;
  /** Failed answers so far. */
  attempts: number;
}

interface FlushWaiter {
  target: number;
  resolve: () => void;
}

/** Hooks for entries (unload path, service worker hand-off, recovery), not part of the public API. */
export interface ClientInternals {
  /** Serialize pending events now (normally done at the end of the task). */
  seal(): void;
  /** Remove and return sealed queued events and formed retry batches, oldest first, for an unload send. */
  takeAll(): StoredEvent[];
  /** Every sealed event the client still holds (queued, retrying or in a request), oldest first; nothing is taken. */
  held(): StoredEvent[];
  /** Put events back at the front (e.g. an unload send that did not fit). */
  putBack(events: StoredEvent[]): void;
  /**
   * Report events as acknowledged by a path outside the client (e.g. a beacon). `keepStored`: count them as sent
   * but leave them in storage (the caller marked them with `markSent`), so a later load resends them after the
   * grace period — for a send whose fate is unknown.
   */
  settle(events: StoredEvent[], how: 'sent' | 'handed-off', keepStored?: boolean): void;
  /**
   * An answer to a send made outside the client (an unload keepalive fetch) for events from takeAll(): handled as
   * a normal answer (207 per event, 413 split, backoff retry, permanent 4xx dropped).
   */
  answer(events: StoredEvent[], result: SendResult): void;
  /** Queue events recovered from storage for sending. */
  enqueueRecovered(events: StoredEvent[]): void;
  /** Start sending now if allowed (e.g. on `online`). */
  kick(reason: FlushReason): void;
  readonly options: ResolvedOptions;
}

/** Builds the client: the queue, flush policy, scheduler and retry, over the given platform. */
export function createClient(options: ResolvedOptions, platform: Platform): { outbox: Outbox; internals: ClientInternals } {
  const { clock, transport, storage, uuid } = platform;
  const random = platform.random ?? Math.random;
  const logger = platform.logger ?? console;
  const useTimers = platform.timers !== false;
  const metadata = encodeMetadata(options.metadata);
  const eventLimit = Math.min(options.maxEventBytes, options.maxBatchBytes - ENVELOPE_RESERVE);

  const queue = createEventQueue();
  const retryBatches: Batch[] = [];
  const inflight = new Set<Batch>();
  const inflightWork = new Set<Promise<void>>();
  const waiters: FlushWaiter[] = [];
  const pendingDrops = new Map<DropReason, DropInfo>();
  /** Events that failed during shutdown: kept in storage (if durable) for the next start, never resent now. */
  const parked: StoredEvent[] = [];

  const counts = {
    tracked: 0,
    recovered: 0,
    sent: 0,
    handedOff: 0,
    retried: 0,
    requests: 0,
    inflight: 0,
    retryQueued: 0,
  };
  const dropped = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  let lastError: string | undefined;
  let lastFlushReason: FlushReason | undefined;

  let seq = 0;
  let flushTarget = 0;
  let endOfTaskScheduled = false;
  let flushTimer: unknown = null;
  let gateTimer: unknown = null;
  let gateUntil = 0;
  let failures = 0;
  let closed = false;
  let stopped = false;
  let ignoreGate = false;
  let shutdownPromise: Promise<void> | null = null;

  function log(...args: unknown[]): void {
    if (options.debug) logger.debug('[outbox]', ...args);
  }

  function reportError(error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error));
    lastError = err.message;
    log('error:', err.message);
    if (options.onError) {
      try {
        options.onError(err);
      } catch {
        /* a host callback must not break the client */
      }
    }
  }

  function scheduleEndOfTask(): void {
    if (endOfTaskScheduled) return;
    endOfTaskScheduled = true;
    queueMicrotask(endOfTask);
  }

  function drop(reason: DropReason, events: { id: string; type: string }[], detail?: string): void {
    if (events.length === 0) return;
    dropped[reason] += events.length;
    let info = pendingDrops.get(reason);
    if (!info) {
      info = { reason, count: 0, events: [] };
      pendingDrops.set(reason, info);
    }
    info.count += events.length;
    for (const e of events) info.events.push({ id: e.id, type: e.type });
    if (detail && !info.detail) info.detail = detail;
    scheduleEndOfTask();
  }

  function reportDrops(): void {
    if (pendingDrops.size === 0) return;
    const infos = [...pendingDrops.values()];
    pendingDrops.clear();
    for (const info of infos) {
      log(`dropped ${info.count} event(s): ${info.reason}${info.detail ? ` (${info.detail})` : ''}`);
      if (options.onDrop) {
        try {
          options.onDrop(info);
        } catch {
          /* a host callback must not break the client */
        }
      }
    }
  }

  function held(): number {
    return queue.size + counts.retryQueued + counts.inflight;
  }

  function parseTimestamp(value: TrackOptions['timestamp'], now: number): number {
    if (value === undefined) return now;
    const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : value;
    return typeof ms === 'number' && Number.isFinite(ms) ? ms : NaN;
  }

  function track(type: string, body?: unknown, opts?: TrackOptions): string {
    counts.tracked++;
    try {
      const id = opts?.id === undefined ? uuid() : opts.id;
      if (closed) {
        drop('shutdown', [{ id: safeString(id), type: safeString(type) }]);
        return '';
      }
      if (typeof type !== 'string' || type === '' || type.length > 200) {
        drop('invalid', [{ id: safeString(id), type: safeString(type) }], 'type must be a non-empty string of ≤ 200 characters');
        return '';
      }
      if (typeof id !== 'string' || id === '' || id.length > 200) {
        drop('invalid', [{ id: safeString(id), type }], 'id must be a non-empty string of ≤ 200 characters');
        return '';
      }
      const ts = parseTimestamp(opts?.timestamp, clock.now());
      if (Number.isNaN(ts)) {
        drop('invalid', [{ id, type }], 'timestamp must be a Date, an ISO string or epoch ms');
        return '';
      }
      if (held() >= options.maxQueueEvents) {
        drop('queue-full', [{ id, type }], `maxQueueEvents (${options.maxQueueEvents}) reached`);
        return '';
      }
      queue.push({ id, type, ts, body, seq: ++seq });
      scheduleEndOfTask();
      return id;
    } catch (error) {
      drop('invalid', [{ id: '', type: safeString(type) }], errorText(error));
      return '';
    }
  }

  /** Serializes pending events; drops the ones JSON cannot carry or that are too large. Returns the new ones. */
  function seal(): StoredEvent[] {
    const fresh: StoredEvent[] = [];
    queue.sealPending((event) => {
      let line: string | undefined;
      try {
        line = encodeEvent(event);
      } catch (error) {
        drop('invalid', [event], `body is not JSON-serializable: ${errorText(error)}`);
        return false;
      }
      event.body = undefined;
      if (line === undefined) {
        drop('invalid', [event], 'body is not JSON-serializable');
        return false;
      }
      if (line.length > eventLimit || (line.length * 3 > eventLimit && utf8Length(line) > eventLimit)) {
        drop('too-large', [event], `event is larger than maxEventBytes (${eventLimit})`);
        return false;
      }
      event.line = line;
      fresh.push(event as StoredEvent);
      return true;
    });
    return fresh;
  }

  function persist(events: StoredEvent[]): void {
    if (!storage || events.length === 0) return;
    storage.append(events).catch((error) => reportError(new Error(`storage append failed; events stay in memory: ${errorText(error)}`)));
  }

  function forget(events: StoredEvent[]): void {
    if (!storage || events.length === 0) return;
    storage.remove(events.map((e) => e.id)).catch((error) => reportError(new Error(`storage remove failed: ${errorText(error)}`)));
  }

  function endOfTask(): void {
    endOfTaskScheduled = false;
    try {
      persist(seal());
      reportDrops();
      if (!stopped) {
        pump();
        armFlushTimer();
      }
    } catch (error) {
      reportError(error);
    }
  }

  function armFlushTimer(): void {
    if (!useTimers || flushTimer !== null || stopped || queue.size === 0) return;
    flushTimer = clock.setTimeout(() => {
      flushTimer = null;
      requestFlush('timer');
    }, options.flushInterval * 1000);
  }

  function requestFlush(reason: FlushReason): void {
    flushTarget = seq;
    lastFlushReason = reason;
    pump();
  }

  function expired(event: StoredEvent, now: number): boolean {
    return now - event.ts > options.maxEventAgeMs;
  }

  /** Next batch to send, or undefined: retry batches first, then a full batch, or a partial one a flush asked for. */
  function nextBatch(now: number): Batch | undefined {
    while (retryBatches.length > 0) {
      const batch = retryBatches.shift()!;
      counts.retryQueued -= batch.events.length;
      const live = batch.events.filter((e) => !expired(e, now));
      if (live.length < batch.events.length) {
        const old = batch.events.filter((e) => expired(e, now));
        drop('expired', old, `older than maxEventAgeMs (${options.maxEventAgeMs})`);
        forget(old);
      }
      if (live.length > 0) return { ...batch, events: live };
    }
    while (queue.size > 0 && expired(queue.peek() as StoredEvent, now)) {
      const old = queue.take(1) as StoredEvent[];
      drop('expired', old, `older than maxEventAgeMs (${options.maxEventAgeMs})`);
      forget(old);
    }
    if (queue.size === 0) return undefined;
    let count = 0;
    let chars = 0;
    let full = false;
    const limit = options.maxBatchBytes - ENVELOPE_RESERVE;
    while (count < queue.size) {
      const event = queue.peek(count)!;
      if (event.line === undefined) break; // not sealed yet
      const size = event.line.length + 1;
      if (count > 0 && chars + size > limit) {
        full = true;
        break;
      }
      chars += size;
      count++;
      if (count >= options.flushAt) {
        full = true;
        break;
      }
    }
    if (count === 0) return undefined;
    const head = queue.peek()!;
    if (!full && head.seq > flushTarget) return undefined;
    if (head.seq > flushTarget) lastFlushReason = count >= options.flushAt ? 'count' : 'bytes';
    const events = queue.take(count) as (StoredEvent & { seq: number })[];
    return { batchId: uuid(), events, minSeq: events[0]!.seq, attempts: 0 };
  }

  /** Starts as many sends as allowed. Synchronous; called whenever the state changes. */
  function pump(): void {
    if (stopped) return;
    try {
      persist(seal());
      while (inflight.size < MAX_CONCURRENT_REQUESTS) {
        const now = clock.now();
        if (now < gateUntil && !ignoreGate) {
          armGateTimer(gateUntil - now);
          break;
        }
        const batch = nextBatch(now);
        if (!batch) break;
        start(batch);
      }
    } catch (error) {
      reportError(error);
    }
    resolveWaiters();
  }

  function armGateTimer(ms: number): void {
    if (gateTimer !== null) return;
    gateTimer = clock.setTimeout(() => {
      gateTimer = null;
      lastFlushReason = 'retry';
      pump();
    }, ms);
  }

  function start(batch: Batch): void {
    inflight.add(batch);
    counts.inflight += batch.events.length;
    counts.requests++;
    const work = send(batch)
      .then((result) => settleResult(batch, result))
      .catch((error) => {
        reportError(error);
        requeue(batch, false);
      })
      .finally(() => {
        inflight.delete(batch);
        inflightWork.delete(work);
        pump();
      });
    inflightWork.add(work);
    platform.waitUntil?.(work);
  }

  async function send(batch: Batch): Promise<SendResult> {
    let body = encodeBatch(batch.batchId, batch.events, metadata);
    let bytes = utf8Length(body);
    // Measured once per batch: multi-byte text can push a batch cut by characters over the byte limit.
    while (bytes > options.maxBatchBytes && batch.events.length > 1) {
      const half = Math.ceil(batch.events.length / 2);
      const rest = batch.events.splice(half);
      counts.inflight -= rest.length;
      retryBatches.unshift({ batchId: uuid(), events: rest, minSeq: batch.minSeq, attempts: batch.attempts });
      counts.retryQueued += rest.length;
      body = encodeBatch(batch.batchId, batch.events, metadata);
      bytes = utf8Length(body);
    }
    log(`sending batch ${batch.batchId}: ${batch.events.length} event(s), ${bytes} bytes`);
    return transport.send({ batchId: batch.batchId, events: batch.events, body, bytes });
  }

  /** The events' request is over: they leave the in-flight count. */
  function finish(events: StoredEvent[]): void {
    counts.inflight -= events.length;
  }

  function requeue(batch: Batch, answered: boolean, retryAfterMs?: number, events = batch.events): void {
    finish(events);
    const attempts = batch.attempts + (answered ? 1 : 0);
    failures++;
    const decision = nextRetry({ attempts, failures, network: !answered, retryAfterMs, random: random() }, options.retry);
    if (decision === 'give-up') {
      drop('retry-exhausted', events, `${attempts} failed attempts`);
      forget(events);
      return;
    }
    counts.retried += events.length;
    counts.retryQueued += events.length;
    if (closed) {
      parked.push(...events); // shutdown gives each batch one attempt; what fails waits for the next start
      return;
    }
    retryBatches.push({ batchId: uuid(), events, minSeq: Infinity, attempts });
    gateUntil = Math.max(gateUntil, clock.now() + decision.delayMs);
    log(`retrying ${events.length} event(s) in ${decision.delayMs} ms`);
  }

  function settleResult(batch: Batch, result: SendResult): void {
    const events = batch.events;
    switch (result.kind) {
      case 'ok':
      case 'handed-off': {
        failures = 0;
        finish(events);
        if (result.kind === 'ok') counts.sent += events.length;
        else counts.handedOff += events.length;
        forget(events);
        return;
      }
      case 'partial': {
        failures = 0;
        const retry = new Set(result.retry);
        const rejected = new Map(result.rejected.map((r) => [r.id, r]));
        const ok: StoredEvent[] = [];
        const again: StoredEvent[] = [];
        const bad: StoredEvent[] = [];
        for (const e of events) (retry.has(e.id) ? again : rejected.has(e.id) ? bad : ok).push(e);
        finish(ok);
        counts.sent += ok.length;
        forget(ok);
        if (bad.length > 0) {
          finish(bad);
          const first = rejected.get(bad[0]!.id)!;
          drop('rejected', bad, `server answered ${first.status}${first.message ? `: ${first.message}` : ''}`);
          forget(bad);
        }
        if (again.length > 0) requeue(batch, true, undefined, again);
        return;
      }
      case 'retry': {
        lastError = result.error;
        log(`send failed: ${result.error}`);
        requeue(batch, !result.network, result.retryAfterMs);
        return;
      }
      case 'too-large': {
        finish(events);
        if (events.length === 1) {
          drop('too-large', events, 'server answered 413 for a single event');
          forget(events);
          return;
        }
        const half = Math.ceil(events.length / 2);
        const parts = [events.slice(0, half), events.slice(half)];
        for (const part of parts.reverse()) {
          retryBatches.unshift({ batchId: uuid(), events: part, minSeq: batch.minSeq, attempts: batch.attempts });
          counts.retryQueued += part.length;
        }
        return;
      }
      case 'rejected': {
        finish(events);
        lastError = result.error;
        drop('rejected', events, `server answered ${result.status}: ${result.error}`);
        forget(events);
        return;
      }
    }
  }

  function resolveWaiters(): void {
    if (waiters.length === 0) return;
    const headSeq = queue.peek()?.seq ?? Infinity;
    let inflightMin = Infinity;
    for (const b of inflight) inflightMin = Math.min(inflightMin, b.minSeq);
    // Split halves of a batch a flush covers keep its seq; batches re-queued after a failure do not.
    let splitMin = Infinity;
    for (const b of retryBatches) splitMin = Math.min(splitMin, b.minSeq);
    const pendingMin = Math.min(headSeq, inflightMin, splitMin);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      // Done when nothing at or before the target is still queued or in a request; events waiting for a retry
      // count as re-queued. If sending is blocked (backoff), queued events are re-queued too.
      const blocked = stopped || (clock.now() < gateUntil && !ignoreGate);
      if (pendingMin > w.target || (blocked && inflightMin > w.target)) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  function flushWith(reason: FlushReason): Promise<void> {
    return new Promise<void>((resolve) => {
      try {
        persist(seal());
        reportDrops();
        waiters.push({ target: seq, resolve });
        requestFlush(reason);
      } catch (error) {
        reportError(error);
        resolve();
      }
    });
  }

  function flush(): Promise<void> {
    if (stopped) return Promise.resolve();
    return flushWith('manual');
  }

  function shutdown(): Promise<void> {
    if (shutdownPromise) return shutdownPromise;
    closed = true;
    shutdownPromise = (async () => {
      try {
        ignoreGate = true; // the last chance: one attempt for everything, backoff or not
        await flushWith('shutdown');
        while (inflightWork.size > 0) await Promise.allSettled([...inflightWork]);
      } catch (error) {
        reportError(error);
      }
      stopped = true;
      if (flushTimer !== null) clock.clearTimeout(flushTimer);
      if (gateTimer !== null) clock.clearTimeout(gateTimer);
      flushTimer = gateTimer = null;
      // What is left either stays in durable storage for the next start, or is lost: say so.
      if (!storage?.durable) {
        const left: StoredEvent[] = [...(queue.clear() as StoredEvent[])];
        for (const b of retryBatches.splice(0)) left.push(...b.events);
        left.push(...parked.splice(0));
        counts.retryQueued = 0;
        drop('shutdown', left, 'not delivered before shutdown (memory storage)');
      }
      reportDrops();
      try {
        platform.onShutdown?.();
        await storage?.close();
      } catch (error) {
        reportError(error);
      }
      for (const w of waiters.splice(0)) w.resolve();
    })();
    return shutdownPromise;
  }

  function stats(): OutboxStats {
    return {
      tracked: counts.tracked,
      recovered: counts.recovered,
      queued: queue.size + counts.retryQueued,
      inflight: counts.inflight,
      sent: counts.sent,
      handedOff: counts.handedOff,
      retried: counts.retried,
      requests: counts.requests,
      dropped: { ...dropped },
      lastFlushReason,
      lastError,
    };
  }

  const internals: ClientInternals = {
    options,
    seal() {
      persist(seal());
    },
    takeAll() {
      persist(seal());
      const out: StoredEvent[] = [];
      for (const b of retryBatches.splice(0)) out.push(...b.events);
      counts.retryQueued = 0;
      out.push(...(queue.take(queue.size) as StoredEvent[]));
      return out;
    },
    held() {
      persist(seal());
      const out: StoredEvent[] = [];
      for (const b of inflight) out.push(...b.events);
      for (const b of retryBatches) out.push(...b.events);
      for (let i = 0; i < queue.size; i++) out.push(queue.peek(i) as StoredEvent);
      return out;
    },
    putBack(events) {
      if (events.length === 0) return;
      retryBatches.unshift({ batchId: uuid(), events, minSeq: Infinity, attempts: 0 });
      counts.retryQueued += events.length;
    },
    settle(events, how, keepStored) {
      if (how === 'sent') counts.sent += events.length;
      else counts.handedOff += events.length;
      if (!keepStored) forget(events);
      resolveWaiters();
    },
    answer(events, result) {
      if (events.length === 0) return;
      counts.inflight += events.length; // settleResult takes them out of flight again
      settleResult({ batchId: uuid(), events, minSeq: Infinity, attempts: 0 }, result);
      pump();
    },
    enqueueRecovered(events) {
      if (events.length === 0 || stopped) return;
      counts.recovered += events.length;
      for (let i = 0; i < events.length; i += options.flushAt) {
        const part = events.slice(i, i + options.flushAt);
        retryBatches.push({ batchId: uuid(), events: part, minSeq: Infinity, attempts: 0 });
        counts.retryQueued += part.length;
      }
      lastFlushReason = 'recovery';
      pump();
    },
    kick(reason) {
      gateUntil = 0;
      if (gateTimer !== null) clock.clearTimeout(gateTimer);
      gateTimer = null;
      requestFlush(reason);
    },
  };

  return { outbox: { track, flush, shutdown, stats }, internals };
}

function errorText(error: unknown): string {
  try {
    return error instanceof Error ? `${error.name}: ${error.message}` : safeString(error);
  } catch {
    return 'unprintable error';
  }
}

/** String(value) that cannot throw: hosts pass anything (Object.create(null), a throwing toString, a Proxy). */
function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '[unprintable]';
  }
}

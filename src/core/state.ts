import { recordsIn, type Batch, type BatchList } from './batches';
import { createEventQueue, type EventQueue } from './queue';
import type { Report } from './report';
import type { Scheduler } from './scheduler';
import type { FlushWaiters } from './waiters';
import type { ResolvedOptions } from './options';
import type { Clock, QueuedEvent, Storage, StoredEvent, Transport } from './types';
import type { Wire, WireName } from '../core/types';

/** A queued record with its place in the client's order (flush() waits by it). */
export type Queued = QueuedEvent & { seq: number };

/**
 * The client's state, shared by its parts (intake, sending, hooks). Counts of records are read off the
 * collections that hold them — queues, `retries`, `inflight`, `parked` — never kept beside them.
 */
export interface Core {
  readonly options: ResolvedOptions;
  readonly clock: Clock;
  readonly transport: Transport;
  readonly wires: Partial<Record<WireName, Wire>>;
  readonly storage?: Storage;
  readonly uuid: () => string;
  readonly random: () => number;
  readonly waitUntil?: (work: Promise<unknown>) => void;
  /** Told of every queued record (Workers without a wrapper send at the end of the task that queued). */
  readonly onQueued?: () => void;
  readonly report: Report;
  scheduler: Scheduler;
  readonly waiters: FlushWaiters;
  /** Unbatched records, one FIFO per wire. */
  readonly queues: Map<WireName, EventQueue>;
  /** Formed batches waiting to be sent: retries, split halves, recovered and put-back records. */
  readonly retries: BatchList;
  readonly inflight: Set<Batch>;
  readonly inflightWork: Set<Promise<void>>;
  /** Records whose last chance at shutdown failed: kept in storage (if durable) for the next start. */
  readonly parked: StoredEvent[];
  /** The last seq given out, and the seq up to which a flush asked for everything to go. */
  seq: number;
  flushTarget: number;
  /** Consecutive failed sends (the backoff exponent). */
  failures: number;
  /** shutdown() was called: new records are dropped. */
  closed: boolean;
  /** shutdown() is over: nothing is sent any more. */
  stopped: boolean;
  /** shutdown() gives everything one attempt, backoff or not. */
  ignoreGate: boolean;
}

export function queueOf(core: Core, wire: WireName): EventQueue {
  let q = core.queues.get(wire);
  if (!q) core.queues.set(wire, (q = createEventQueue()));
  return q;
}

/** Records not yet cut into a batch. */
export function unbatched(core: Core): number {
  let n = 0;
  for (const q of core.queues.values()) n += q.size;
  return n;
}

/** Records waiting to be sent (`stats().queued`). */
export function queuedCount(core: Core): number {
  return unbatched(core) + core.retries.records + core.parked.length;
}

/** Every record the client holds: what maxQueueEvents bounds. */
export function heldCount(core: Core): number {
  return queuedCount(core) + recordsIn(core.inflight);
}



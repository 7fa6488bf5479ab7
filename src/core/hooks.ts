import type { Batch } from './batches';
import { drop, forget, pushRecord, sealAndPersist, type NewRecord } from './intake';
import { pump, requestFlush, settle, settleWaiters } from './send';
import { heldCount, queuedCount, type Core } from './state';
import { utf8Length } from './encode';
import type { EventQueue } from './queue';
import type { ResolvedOptions } from './options';
import type { FlushReason, SendResult, StoredEvent } from './types';
import type { Wire, WireName } from '../core/types';

/** The door the unload path uses into the client. */
export interface LeaveHooks {
  readonly options: ResolvedOptions;
  /** The wires, to encode unload bodies exactly as normal sends. */
  readonly wires: Partial<Record<WireName, Wire>>;
  /** Seals pending records, then removes and returns every queued record and formed retry batch, oldest first. */
  takeQueued(): StoredEvent[];
  /**
   * Seals pending records, then removes and returns the oldest queued records of one wire whose lines fit
   * `room(wire)` body bytes (envelope included), leaving the rest queued; undefined when nothing fits. Costs only
   * the records it takes.
   */
  takeFront(room: (wire: Wire) => number): { wire: Wire; events: StoredEvent[] } | undefined;
  /** Records queued (not in a request). */
  queuedCount(): number;
  /** Ids of the records in a request now. */
  inflightIds(): string[];
  /** Puts records back at the front (an unload send that did not fit). */
  putBack(events: StoredEvent[]): void;
  /**
   * Reports records as acknowledged by a path outside the client (a beacon). `keepStored`: count them but leave
   * them in storage (the caller marked them with `markSent`), so a later load resends them after the grace period.
   */
  settle(events: StoredEvent[], how: 'sent' | 'handed-off', keepStored?: boolean): void;
  /** The answer to a send made outside the client (an unload keepalive fetch), handled as a normal answer. */
  answer(events: StoredEvent[], result: SendResult): void;
  /** Start sending now, backoff or not (the page is shown again, the network is back). */
  kick(reason: FlushReason): void;
}

/** The door the durable queue uses into the client. */
export interface RecoveryHooks {
  readonly options: ResolvedOptions;
  /** Every sealed record the client still holds (queued, retrying or in a request), oldest first; nothing is taken. */
  held(): StoredEvent[];
  /** Queues records recovered from storage. */
  enqueueRecovered(events: StoredEvent[]): void;
  /** Records that may still be queued before maxQueueEvents. */
  room(): number;
  kick(reason: FlushReason): void;
}

/** Every door into the client; entries hand each part only the one it needs. */
export interface ClientHooks extends LeaveHooks, RecoveryHooks {
  readonly options: ResolvedOptions;
  /** Queues a record built by a layer above (`track` is the ingestion form of it). Returns false if dropped. */
  push(record: NewRecord): boolean;
  /** Drops input before it became a record (an invalid score), counted as tracked and reported like any drop. */
  dropInput(reason: 'invalid' | 'too-large', records: { id: string; type: string }[], detail: string): void;
  /** The report's debug log. */
  log(...args: unknown[]): void;
  warnOnce(key: string, message: string): void;
}

/** Removes and returns every queued record, formed batches first (they are older), then each wire's queue. */
export function takeQueued(core: Core): StoredEvent[] {
  sealAndPersist(core);
  const out: StoredEvent[] = [];
  for (const b of core.retries.drain()) out.push(...b.events);
  for (const q of core.queues.values()) out.push(...(q.take(q.size) as StoredEvent[]));
  return out;
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

/** The oldest queued records of one wire that fit `room(wire)`: formed batches first, then the oldest queue head. */
export function takeFront(core: Core, room: (wire: Wire) => number): { wire: Wire; events: StoredEvent[] } | undefined {
  sealAndPersist(core);
  const batch = core.retries.shift();
  if (batch) {
    const wire = core.wires[batch.wire];
    const n = wire ? fitting(batch.events.length, (i) => batch.events[i]!.line, wire.envelopeBytes, room(wire)) : 0;
    if (n < batch.events.length) core.retries.unshift({ ...batch, events: batch.events.slice(n) });
    return n === 0 || !wire ? undefined : { wire, events: batch.events.slice(0, n) };
  }
  let oldest: { name: WireName; queue: EventQueue } | undefined;
  for (const [name, queue] of core.queues) {
    const head = queue.peek();
    if (head?.line !== undefined && (!oldest || head.seq < oldest.queue.peek()!.seq)) oldest = { name, queue };
  }
  const wire = oldest && core.wires[oldest.name];
  if (!oldest || !wire) return undefined;
  const q = oldest.queue;
  let sealed = 0;
  while (sealed < q.size && q.peek(sealed)!.line !== undefined) sealed++;
  const n = fitting(sealed, (i) => q.peek(i)!.line!, wire.envelopeBytes, room(wire));
  return n === 0 ? undefined : { wire, events: q.take(n) as StoredEvent[] };
}

/** Formed batches for records from outside a queue (recovered, put back): one wire each, at most `size` records. */
function batchesOf(core: Core, events: StoredEvent[], size: number): Batch[] {
  const byWire = new Map<WireName, StoredEvent[]>();
  for (const e of events) {
    const wire = e.wire ?? 'ingestion';
    const list = byWire.get(wire);
    if (list) list.push(e);
    else byWire.set(wire, [e]);
  }
  const out: Batch[] = [];
  for (const [wire, list] of byWire) {
    for (let i = 0; i < list.length; i += size) out.push({ batchId: core.uuid(), wire, events: list.slice(i, i + size), minSeq: Infinity, attempts: 0 });
  }
  return out;
}

export function createHooks(core: Core): ClientHooks {
  const { report } = core;
  return {
    options: core.options,
    wires: core.wires,
    takeQueued: () => takeQueued(core),
    takeFront: (room) => takeFront(core, room),
    queuedCount: () => queuedCount(core),
    inflightIds: () => [...core.inflight].flatMap((b) => b.events.map((e) => e.id)),
    held() {
      sealAndPersist(core);
      const out: StoredEvent[] = [];
      for (const b of core.inflight) out.push(...b.events);
      for (const b of core.retries) out.push(...b.events);
      for (const q of core.queues.values()) for (let i = 0; i < q.size; i++) out.push(q.peek(i) as StoredEvent);
      return out;
    },
    putBack(events) {
      for (const b of batchesOf(core, events, events.length || 1).reverse()) core.retries.unshift(b);
    },
    settle(events, how, keepStored) {
      if (how === 'sent') report.counts.sent += events.length;
      else report.counts.handedOff += events.length;
      if (!keepStored) forget(core, events);
      settleWaiters(core);
    },
    answer(events, result) {
      if (events.length === 0) return;
      for (const b of batchesOf(core, events, events.length)) settle(core, b, result);
      pump(core);
    },
    enqueueRecovered(events) {
      if (events.length === 0 || core.stopped) return;
      report.counts.recovered += events.length;
      for (const b of batchesOf(core, events, core.options.maxBatchEvents)) core.retries.push(b);
      report.lastFlushReason = 'recovery';
      pump(core);
    },
    room: () => core.options.maxQueueEvents - heldCount(core),
    kick(reason) {
      core.scheduler.openGate();
      requestFlush(core, reason);
    },
    push: (record) => pushRecord(core, record),
    dropInput(reason, records, detail) {
      report.counts.tracked += records.length;
      drop(core, reason, records, detail);
    },
    log: report.log,
    warnOnce: report.warnOnce,
  };
}

import type { EventQueue } from './queue';
import type { StoredEvent, WireName } from './types';

/** Records cut for one request. A batch never mixes wires. */
export interface Batch {
  batchId: string;
  wire: WireName;
  events: StoredEvent[];
  /** Smallest queue seq in the batch; Infinity for recovered or re-queued records (no flush() waits on them). */
  minSeq: number;
  /** Failed answers so far. */
  attempts: number;
}

/**
 * Formed batches waiting to be sent (retries, split halves, recovered records), in order. It counts the records
 * it holds, so the client reads `queued` off the collection instead of keeping a second counter.
 */
export interface BatchList extends Iterable<Batch> {
  /** Records in all batches. */
  readonly records: number;
  readonly length: number;
  push(batch: Batch): void;
  unshift(batch: Batch): void;
  shift(): Batch | undefined;
  /** Removes and returns every batch. */
  drain(): Batch[];
  /** Smallest minSeq of the batches (Infinity when empty). */
  minSeq(): number;
}

export function createBatchList(): BatchList {
  const items: Batch[] = [];
  let records = 0;
  return {
    get records() {
      return records;
    },
    get length() {
      return items.length;
    },
    push(batch) {
      items.push(batch);
      records += batch.events.length;
    },
    unshift(batch) {
      items.unshift(batch);
      records += batch.events.length;
    },
    shift() {
      const batch = items.shift();
      if (batch) records -= batch.events.length;
      return batch;
    },
    drain() {
      records = 0;
      return items.splice(0);
    },
    minSeq() {
      let min = Infinity;
      for (const b of items) if (b.minSeq < min) min = b.minSeq;
      return min;
    },
    [Symbol.iterator]: () => items[Symbol.iterator](),
  };
}

/** Records of a set of batches (in flight), counted on demand: a handful of batches at most. */
export function recordsIn(batches: Iterable<Batch>): number {
  let n = 0;
  for (const b of batches) n += b.events.length;
  return n;
}

/** Bounds of one request's batch, and when one is due. */
export interface BatchLimits {
  /** The most records one request carries. */
  maxEvents: number;
  /** Characters of record lines (plus a separator each) one request carries, the envelope excluded. */
  maxChars: number;
  /** A send is due once this many records are queued (the count trigger). */
  flushAt: number;
}

/**
 * How many sealed records from the queue's head make the next batch, and whether a send is due now — the queue
 * holds flushAt records, or the batch was cut by bytes — rather than a remainder that waits for a flush or the
 * timer. Unsealed records end the cut. Bytes are bounded by characters here; the client measures UTF-8 bytes
 * once per batch and splits what is over.
 */
export function cutBatch(queue: EventQueue, limits: BatchLimits): { count: number; due: 'count' | 'bytes' | false } {
  let count = 0;
  let chars = 0;
  while (count < queue.size && count < limits.maxEvents) {
    const record = queue.peek(count)!;
    if (record.line === undefined) break; // not sealed yet
    const size = record.line.length + 1;
    if (count > 0 && chars + size > limits.maxChars) return { count, due: 'bytes' };
    chars += size;
    count++;
  }
  return { count, due: queue.size >= limits.flushAt ? 'count' : false };
}

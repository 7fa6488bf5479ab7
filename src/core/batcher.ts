import type { EventQueue } from './queue';

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

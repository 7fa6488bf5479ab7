import type { EventQueue } from './queue';

/** Bounds of one request's batch. */
export interface BatchLimits {
  /** The most records one request carries. */
  maxEvents: number;
  /** Characters of record lines (plus a separator each) one request carries, the envelope excluded. */
  maxChars: number;
  /** A batch of this many records is due at once (the count trigger). */
  flushAt: number;
}

/**
 * How many sealed records from the queue's head make the next batch, and whether that batch is full (cut by
 * count or bytes: due now) rather than a remainder that waits for a flush. Unsealed records end the cut. Bytes
 * are bounded by characters here; the client measures UTF-8 bytes once per batch and splits what is over.
 */
export function cutBatch(queue: EventQueue, limits: BatchLimits): { count: number; full: boolean } {
  let count = 0;
  let chars = 0;
  while (count < queue.size) {
    const record = queue.peek(count)!;
    if (record.line === undefined) break; // not sealed yet
    const size = record.line.length + 1;
    if (count > 0 && chars + size > limits.maxChars) return { count, full: true };
    chars += size;
    count++;
    if (count >= limits.maxEvents) return { count, full: true };
  }
  return { count, full: count >= limits.flushAt };
}

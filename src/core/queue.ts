import type { QueuedEvent } from './types';

/**
 * FIFO of events with O(1) push and take: a growing array read from a head index, compacted when the consumed
 * prefix dominates. Events after `sealedEnd` are not yet serialized.
 */
export interface EventQueue {
  readonly size: number;
  push(event: QueuedEvent & { seq: number }): void;
  /** The event `offset` places after the head, or undefined. */
  peek(offset?: number): (QueuedEvent & { seq: number }) | undefined;
  /** Removes and returns the first `n` events. */
  take(n: number): (QueuedEvent & { seq: number })[];
  /** Events not yet sealed (serialized), in order; the callback returns false to remove one. */
  sealPending(seal: (event: QueuedEvent & { seq: number }) => boolean): void;
  /** Removes and returns every event. */
  clear(): (QueuedEvent & { seq: number })[];
}

export function createEventQueue(): EventQueue {
  let items: (QueuedEvent & { seq: number })[] = [];
  let head = 0;
  let sealedEnd = 0;

  function compact(): void {
    if (head > 1024 && head * 2 > items.length) {
      items = items.slice(head);
      sealedEnd -= head;
      head = 0;
    }
  }

  return {
    get size() {
      return items.length - head;
    },
    push(event) {
      items.push(event);
    },
    peek(offset = 0) {
      return items[head + offset];
    },
    take(n) {
      const taken = items.slice(head, head + n);
      head += taken.length;
      if (sealedEnd < head) sealedEnd = head;
      if (head === items.length) {
        items = [];
        head = 0;
        sealedEnd = 0;
      } else compact();
      return taken;
    },
    sealPending(seal) {
      let write = Math.max(sealedEnd, head);
      for (let read = write; read < items.length; read++) {
        const event = items[read]!;
        if (seal(event)) items[write++] = event;
      }
      items.length = write;
      sealedEnd = write;
    },
    clear() {
      const all = items.slice(head);
      items = [];
      head = 0;
      sealedEnd = 0;
      return all;
    },
  };
}

/**
 * Pending `flush()` calls. A flush waits only for the records queued when it was called (its `target`, a queue
 * seq), so a steady stream of new records can never keep it pending.
 */
export interface FlushWaiters {
  readonly size: number;
  add(target: number, resolve: () => void): void;
  /**
   * Resolves the flushes with nothing left at or before their target: `pendingMin` is the smallest seq still
   * queued or in a request, `inflightMin` the smallest in a request; while `blocked` (backoff, stopped), queued
   * records count as re-queued and only requests in flight are waited for.
   */
  settle(pendingMin: number, inflightMin: number, blocked: boolean): void;
  /** Resolves every flush (shutdown is over). */
  releaseAll(): void;
}

export function createFlushWaiters(): FlushWaiters {
  const waiters: { target: number; resolve: () => void }[] = [];
  return {
    get size() {
      return waiters.length;
    },
    add(target, resolve) {
      waiters.push({ target, resolve });
    },
    settle(pendingMin, inflightMin, blocked) {
      for (let i = waiters.length - 1; i >= 0; i--) {
        const w = waiters[i]!;
        if (pendingMin > w.target || (blocked && inflightMin > w.target)) {
          waiters.splice(i, 1);
          w.resolve();
        }
      }
    },
    releaseAll() {
      for (const w of waiters.splice(0)) w.resolve();
    },
  };
}

import type { Storage, StoredEvent } from '../core/types';
import { plain } from '../core/record';

/**
 * Storage that keeps events in a Map: the contract of the durable stores, without durability. Useful as the
 * reference implementation in the shared storage contract tests; the client itself needs no storage for
 * memory-only use.
 */
export function createMemoryStorage(): Storage & { size(): number } {
  const events = new Map<string, StoredEvent>();
  return {
    durable: false,
    async append(batch) {
      for (const e of batch) events.set(e.id, plain(e));
    },
    async remove(ids) {
      for (const id of ids) events.delete(id);
    },
    async recover() {
      return [...events.values()].sort((a, b) => a.ts - b.ts);
    },
    async close() {},
    size: () => events.size,
  };
}

import type { Storage, StoredEvent } from '../core/types';

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
      for (const e of batch) events.set(e.id, { id: e.id, type: e.type, ts: e.ts, line: e.line });
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

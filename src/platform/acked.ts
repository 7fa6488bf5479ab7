import type { StoredEvent } from '../core/types';
import type { IndexedDbStorage } from '../storage/indexeddb';
import { takeAcks } from '../storage/acks';
import { controlled } from './page-transport';

/**
 * Recovered records less those the service worker acknowledged after their page was gone (storage/acks.ts): those are
 * removed from storage instead of sent again. Consulted only under a service worker; any failure keeps them all
 * (a duplicate, never a loss).
 */
export async function withoutAcked(store: Pick<IndexedDbStorage, 'remove'>, records: StoredEvent[]): Promise<StoredEvent[]> {
  if (records.length === 0 || !controlled()) return records;
  let acked: Set<string>;
  try {
    acked = await takeAcks(records.map((r) => r.id));
  } catch {
    return records;
  }
  if (acked.size === 0) return records;
  store.remove([...acked]).catch(() => undefined);
  return records.filter((r) => !acked.has(r.id));
}

import type { StoredEvent } from '../core/types';
import { plain } from '../core/record';

/**
 * The last resort at `pagehide`: events whose IndexedDB write-ahead transaction has not committed yet (a burst
 * tracked milliseconds before the user navigated) would die with the document — the browser aborts the
 * transaction on teardown (measured: 1 558 of 2 000 events lost in 2 of 8 immediate navigations). localStorage is
 * synchronous, so what is written in `pagehide` survives; the next client of the origin adopts it into IndexedDB
 * and sends it. One key per client (`outbox:spill:<owner>`), written only at pagehide and only for uncommitted
 * events, so it stays small and rare. A spill and a late IndexedDB commit of the same events mean a duplicate
 * send (deduplicated by id), never a loss.
 *
 * A spilled record an unload keepalive carried keeps `sentAt`, when it went: its answer was never seen, so it is
 * what a record marked sent is in IndexedDB (storage/indexeddb.ts), and the next load waits out the same grace
 * before sending it again (it stays in localStorage meanwhile) instead of sending it at once. Without the mark
 * Firefox delivered such a round twice: the keepalive's copy, then the spill's (platform-facts §12).
 */
export const SPILL_PREFIX = 'outbox:spill:';

/** A spilled record; `sentAt` (epoch ms) when an unload keepalive carried it and no answer was seen. */
export type SpilledEvent = StoredEvent & { sentAt?: number };

interface Spill {
  owner: string;
  /** The pagehide was for the back/forward cache: the page may come back and send these itself. */
  persisted: boolean;
  at: number;
  events: SpilledEvent[];
}

/** localStorage, or why it cannot be used (a sandboxed frame or disabled storage throws on access). */
function access(): { ls?: globalThis.Storage; why?: string } {
  try {
    return typeof localStorage === 'undefined' || localStorage === null ? { why: 'there is no localStorage here' } : { ls: localStorage };
  } catch (error) {
    return { why: `localStorage is unavailable (${error instanceof Error ? `${error.name}: ${error.message}` : String(error)})` };
  }
}

function storage(): globalThis.Storage | undefined {
  return access().ls;
}

/**
 * Writes this client's spill (replacing an older one). Into the back/forward cache (`persisted`) it is written even
 * without events: it is then this client's park note (see parkNotes), written synchronously because WebKit runs
 * no IndexedDB transaction a page begins in its last pagehide before caching it (platform-facts §11). Returns whether
 * it was written. Throws what localStorage throws (quota), and a clear error when localStorage cannot be used at
 * all, so the caller can report that these records now live in memory only; with no events to save, never throws.
 */
export function writeSpill(owner: string, events: SpilledEvent[], persisted: boolean): boolean {
  if (events.length === 0 && !persisted) {
    dropSpill(owner); // nothing uncommitted now: an older spill (one written at beforeunload) is stale
    return false;
  }
  const { ls, why } = access();
  try {
    if (!ls) throw new Error(`${why}: ${events.length} record(s) not yet committed to IndexedDB cannot be spilled and are lost if the page is torn down now`);
    const spill: Spill = { owner, persisted, at: Date.now(), events: events.map((e) => ({ ...plain(e), sentAt: e.sentAt })) }; // sentAt undefined: not in the JSON
    ls.setItem(SPILL_PREFIX + owner, JSON.stringify(spill));
    return true;
  } catch (error) {
    if (events.length > 0) throw error;
    return false; // a park note only: nothing is lost
  }
}

/** Park notes: owners whose spill says they went into the back/forward cache, and when (`at`, epoch ms). */
export function parkNotes(): { owner: string; at: number }[] {
  const out: { owner: string; at: number }[] = [];
  findSpills((owner, persisted, at) => (persisted && out.push({ owner, at }), false));
  return out;
}

/** Forgets this client's spill (it came back from the back/forward cache, or its events are safe). */
export function dropSpill(owner: string): void {
  try {
    storage()?.removeItem(SPILL_PREFIX + owner);
  } catch {
    /* nothing to forget */
  }
}

/**
 * Spills left by clients that are gone, per `isGone(owner, persisted, at)` (`at`: when it was written, epoch ms). Malformed entries are removed. Each result's
 * `events` are the records to send now; `release()` removes them once they are safe elsewhere. Records a keepalive
 * carried less than `graceMs` ago (`withheld`, with their `sentAt`) stay in the entry.
 */
export function findSpills(
  isGone: (owner: string, persisted: boolean, at: number) => boolean,
  graceMs = 0,
): { events: StoredEvent[]; withheld: SpilledEvent[]; release(): void }[] {
  const ls = storage();
  if (!ls) return [];
  const out: { events: StoredEvent[]; withheld: SpilledEvent[]; release(): void }[] = [];
  const keys: string[] = [];
  try {
    for (let i = 0; i < ls.length; i++) {
      const key = ls.key(i);
      if (key?.startsWith(SPILL_PREFIX)) keys.push(key);
    }
  } catch {
    return [];
  }
  for (const key of keys) {
    const release = () => {
      try {
        ls.removeItem(key);
      } catch {
        /* gone already */
      }
    };
    let spill: Spill;
    try {
      spill = JSON.parse(ls.getItem(key) ?? 'null') as Spill;
    } catch {
      release();
      continue;
    }
    if (!spill || typeof spill.owner !== 'string' || !Array.isArray(spill.events)) {
      release();
      continue;
    }
    if (!isGone(spill.owner, spill.persisted === true, typeof spill.at === 'number' ? spill.at : 0)) continue;
    const events: StoredEvent[] = [];
    const withheld: SpilledEvent[] = [];
    for (const e of spill.events) {
      if (e && typeof e.id === 'string' && typeof e.type === 'string' && typeof e.ts === 'number' && typeof e.line === 'string' && (e.wire === undefined || e.wire === 'otlp' || e.wire === 'ingestion')) {
        // Without a numeric sentAt the sum is NaN, never greater: sent now.
        if ((e.sentAt as number) + graceMs > Date.now()) withheld.push(e);
        else events.push(plain(e));
      }
    }
    // What is withheld is written back (smaller than what was read: within the quota).
    out.push({ events, withheld, release: withheld.length > 0 ? () => ls.setItem(key, JSON.stringify({ ...spill, events: withheld })) : release });
  }
  return out;
}

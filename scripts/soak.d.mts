// Types of scripts/soak.mjs for the soak spec.
export interface SoakResult {
  ok: boolean;
  seed: number;
  seconds: number;
  tracked: number;
  delivered: number;
  /** Tracked ids that never arrived, less those a crash took before their write-ahead committed. */
  missing: number;
  /** Tracked ids that never arrived and were not committed when a crash was ordered (IndexedDB's crash window). */
  lostUncommitted: number;
  uncommittedAtCrash: number;
  /** Accepted arrivals beyond the first of each id, before any dedup. */
  duplicates: number;
  duplicatedIds: number;
  /** Times a service worker of the run stopped (e.g. its renderer crashed with a tab). */
  workerStops: number;
  duplicatesByCause: Record<string, { duplicates: number; ids: number; sentBy: { worker: number; page: number } }>;
  /** With the relay: its receipts queries and counters. */
  relay?: { receiptQueries: { asked: number; ids: number } } & Record<string, unknown>;
  /** Duplicates the collector's store ignored (its own count). */
  storeDuplicates: number;
  requests: number;
  byStatus: Record<string, number>;
  actions: Record<string, number>;
  faults: Record<string, number>;
  tabs: Record<string, unknown>[];
  problems: string[];
}
export declare const MAX_DUPLICATE_SHARE: number;
/** `judgeDuplicates: false` leaves duplicates out of `problems` (they are still counted and printed). */
export declare function runSoak(opts?: { seconds?: number; seed?: number; tabs?: number; sw?: boolean; relay?: boolean; log?: (line: string) => void; judgeDuplicates?: boolean }): Promise<SoakResult>;
export declare function formatTable(result: SoakResult): string;

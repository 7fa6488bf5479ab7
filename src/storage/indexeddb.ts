// The segment mirror, the write coalescing and recovery share one state object (idb-state.ts) that never leaves
// this store: the methods below are its only door.
import type { Storage, StoredEvent } from '../core/types';
import { plain } from '../core/record';
import { countHeld, mirrorAdd, newKey, type IdbState } from './idb-state';
import { recover } from './idb-recover';
import { close, park, request } from './idb-write';

/**
 * Write-ahead storage in IndexedDB. One record, a *segment*, per `append` call (the client appends once per task,
 * so a burst of 10 000 `track()` calls is one segment and one transaction: 1 000 single-record puts cost 53–94 ms
 * here, platform-facts §4). Each segment records its owner (a client/tab id); this instance only rewrites its own
 * segments, through an in-memory mirror of them, and adopts other owners' segments in `recover()` when the
 * injected liveness check says their owner is gone.
 *
 * Faults degrade, never throw: a write that fails (quota, a closed or missing database, no answer) leaves its
 * segments in memory, marked failed, and retried with a later write; the first failure of a streak rejects (the
 * client reports it), the rest are counted in `faults`. `durableNow()` says whether everything held is committed.
 *
 * Keys: `s:<created, base36>-<owner>-<n>` segments, `h:<owner>` heartbeats (only without Web Locks), `p:<owner>`
 * owners parked in the back/forward cache (their segments are not adopted while the mark is fresh).
 */

/** A record marked sent (its answer may never be seen) is recovered by another client only this long after. @default 60 s */
export const SENT_GRACE_MS = 60_000;
/** The same grace when the target deduplicates by id (an Outbox relay): a resend costs nothing there. @default 5 s */
export const RELAY_SENT_GRACE_MS = 5_000;
/** Without Web Locks: how often a client rewrites its heartbeat record. @default 20 s */
export const HEARTBEAT_MS = 20_000;
/**
 * Without Web Locks: an owner whose heartbeat is older than this is taken for gone. Hidden tabs' timers may be
 * throttled to once a minute (Chrome's intensive throttling), so this is several minutes. @default 3 min
 */
export const HEARTBEAT_STALE_MS = 180_000;
/**
 * Removals (acknowledgements) are written this long after the answer that caused them unless an append writes
 * anyway; 0 means the next task, so answers arriving in the same task share one transaction. @default 0
 */
export const REMOVE_DELAY_MS = 0;
/** An IndexedDB operation that has not settled after this long is failed (a blocked open must not hang us). @default 10 s */
export const OP_TIMEOUT_MS = 10_000;
/**
 * An owner parked in the back/forward cache keeps its segments this long (Chrome evicts cached pages after
 * 10 minutes); past it another client adopts them. @default 10 min
 */
export const PARK_MS = 600_000;

export interface IndexedDbStorageOptions {
  /** This client's id; segments it appends carry it. */
  owner: string;
  /** @default 'outbox' */
  dbName?: string;
  /** @default 'segments' */
  storeName?: string;
  /**
   * Ids of owners known to be alive now (Web Locks). Without it (no Web Locks) an owner is alive while its
   * heartbeat record is fresher than `staleMs`, and this instance keeps its own heartbeat while it has segments.
   */
  liveOwners?: () => Promise<Set<string>>;
  /** Writes wait for this (the tab lock being held), so no segment exists whose owner looks dead. */
  ready?: Promise<unknown> | (() => Promise<unknown>);
  /** @default SENT_GRACE_MS */
  graceMs?: number;
  /** @default HEARTBEAT_STALE_MS */
  staleMs?: number;
  /** @default HEARTBEAT_MS */
  heartbeatMs?: number;
  /** @default REMOVE_DELAY_MS */
  removeDelayMs?: number;
  /** @default OP_TIMEOUT_MS */
  timeoutMs?: number;
  /** @default PARK_MS */
  parkMs?: number;
  /**
   * Owners parked in the back/forward cache per a note kept outside IndexedDB (`at`: when, epoch ms), honoured
   * like the park marks in the store: WebKit commits no IndexedDB write a page begins in its last pagehide before
   * caching it, so there the page writes its mark to localStorage instead (platform/spill.ts).
   */
  parkNotes?: () => { owner: string; at: number }[];
  /**
   * IndexedDB's commit durability for this store's writes. 'relaxed' (the default) differs from 'strict' only on
   * an OS crash or power loss (platform-facts §4); tab and browser crashes after `complete` keep both.
   */
  durability?: IDBTransactionDurability;
  /** Epoch ms. @default Date.now */
  now?: () => number;
  /** Called once close() has written what it could (e.g. to release the owner's tab lock). */
  onClosed?: () => void;
  /** Faults the store degrades around (versionchange, blocked open, unreadable records), as errors to report. */
  onFault?: (error: Error) => void;
}

/** The IndexedDB store: the Storage contract plus what recovery, the page lifecycle and the benchmark need. */
export interface IndexedDbStorage extends Storage {
  /** Readwrite transactions started so far (the benchmark reports them per burst). */
  readonly transactions: number;
  /** Writes that failed so far (each a transaction; the first of a streak is also a rejection). */
  readonly faults: number;
  /** Same as durableNow(), read by the client at shutdown. */
  readonly durable: boolean;
  /** True when every record this store holds is committed or being written with no failure outstanding. */
  durableNow(): boolean;
  /** Records this store holds that are not committed (being written, or whose write failed). */
  volatileCount(): number;
  /** Adopts up to `max` events of gone owners (one transaction) and returns them, oldest first. */
  recover(max?: number): Promise<StoredEvent[]>;
  /** Owners the last recover() found alive with stored segments (their events wait for them to go). */
  liveOwnersSeen(): string[];
  /** When events withheld by the sent-grace period or a park become recoverable (epoch ms), if any were seen. */
  nextRecoveryAt(): number | undefined;
  /** Writes pending removals now. */
  flushWrites(): Promise<void>;
  /**
   * The page enters the back/forward cache: marks this owner parked, in a transaction started synchronously
   * (so it is ordered before any other client's later read), before the caller releases the tab lock.
   */
  park(): void;
  /** Back from the back/forward cache: the park mark goes (with the next write). */
  unpark(): void;
  /** Events in this instance's own segments (memory mirror). */
  size(): number;
  /** True once the append that stored this event has committed (false for unknown ids). */
  isCommitted(id: string): boolean;
}

/** Opens (lazily) the IndexedDB store. Never throws; every operation rejects instead, and never hangs. */
export function createIndexedDbStorage(opts: IndexedDbStorageOptions): IndexedDbStorage {
  const st = createState(opts);
  if (typeof opts.ready === 'object') opts.ready.catch(() => undefined); // its failure is reported by the writes waiting on it
  const durableNow = () => st.streak === 0 && st.failedKeys.size === 0;

  return {
    get durable() {
      return durableNow();
    },
    get transactions() {
      return st.txCount;
    },
    get faults() {
      return st.faultCount;
    },
    durableNow,
    volatileCount() {
      let n = 0;
      for (const key of new Set([...st.uncommitted, ...st.failedKeys])) n += st.mine.get(key)?.size ?? 0;
      return n;
    },
    append(events) {
      if (events.length === 0) return Promise.resolve();
      const key = newKey(st);
      mirrorAdd(st, key, events.map(plain));
      st.dirty.add(key);
      st.uncommitted.add(key);
      return request(st, true);
    },
    remove(ids) {
      let touched = false;
      for (const id of ids) {
        const key = st.keyOf.get(id);
        if (key === undefined) continue;
        st.keyOf.delete(id);
        st.mine.get(key)?.delete(id);
        st.dirty.add(key);
        touched = true;
      }
      // A crash before this is written only means a duplicate send later (deduplicated by id), never a loss.
      return touched ? request(st, false) : Promise.resolve();
    },
    markSent(ids, at) {
      let touched = false;
      for (const id of ids) {
        const key = st.keyOf.get(id);
        const rec = key === undefined ? undefined : st.mine.get(key)?.get(id);
        if (!rec || key === undefined) continue;
        rec.sentAt = at;
        st.dirty.add(key);
        touched = true;
      }
      return touched ? request(st, true) : Promise.resolve();
    },
    recover: (max) => recover(st, max),
    nextRecoveryAt: () => st.nextAt,
    liveOwnersSeen: () => st.aliveSeen,
    flushWrites() {
      return st.dirty.size > 0 || st.pendingJob ? request(st, true) : Promise.resolve();
    },
    park: () => park(st),
    unpark() {
      st.parkOp = 'delete';
      request(st, true).catch(() => undefined);
    },
    isCommitted(id) {
      const key = st.keyOf.get(id);
      return key !== undefined && !st.uncommitted.has(key) && !st.failedKeys.has(key);
    },
    size: () => countHeld(st),
    close: () => close(st, opts),
  };
}

/** This store's state at creation: options resolved, nothing held, not connected. */
function createState(opts: IndexedDbStorageOptions): IdbState {
  return {
    ownerId: opts.owner,
    dbId: opts.dbName ?? 'outbox',
    storeId: opts.storeName ?? 'segments',
    nowFn: opts.now ?? Date.now,
    graceFor: opts.graceMs ?? SENT_GRACE_MS,
    staleAfter: opts.staleMs ?? HEARTBEAT_STALE_MS,
    beatEvery: opts.heartbeatMs ?? HEARTBEAT_MS,
    removeAfter: opts.removeDelayMs ?? REMOVE_DELAY_MS,
    opTimeout: opts.timeoutMs ?? OP_TIMEOUT_MS,
    parkFor: opts.parkMs ?? PARK_MS,
    txDurability: opts.durability ?? 'relaxed',
    liveCheck: opts.liveOwners,
    parkNotes: opts.parkNotes,
    whenReady: () => (typeof opts.ready === 'function' ? opts.ready() : (opts.ready ?? Promise.resolve())),
    fault: (message) => {
      try {
        opts.onFault?.(new Error(message));
      } catch {
        /* a host callback must not break the store */
      }
    },
    heartbeats: !opts.liveOwners,
    mine: new Map(),
    keyOf: new Map(),
    dirty: new Set(),
    uncommitted: new Set(),
    failedKeys: new Set(),
    streak: 0,
    faultCount: 0,
    serial: 0,
    txCount: 0,
    heartbeatTimer: null,
    aliveSeen: [],
    parkOp: null,
    dbp: null,
    connection: null,
    blockedReported: false,
    pendingJob: null,
    writing: false,
    microtask: false,
    writeTimer: null,
  };
}



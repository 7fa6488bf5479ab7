// One closure owns the segment mirror, the write coalescing and recovery: they share state that must not leak.
import type { Storage, StoredEvent } from '../core/types';
import { done, openDatabase, req, withTimeout } from './idb-request';
import { plain } from '../core/record';

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

type Rec = StoredEvent & { sentAt?: number };
interface Segment {
  owner: string;
  events: Rec[];
}
interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
  urgent: boolean;
}

const SEGMENTS = () => IDBKeyRange.bound('s:', 's;', false, true);
const BEATS = () => IDBKeyRange.bound('h:', 'h;', false, true);
const PARKS = () => IDBKeyRange.bound('p:', 'p;', false, true);

/** A stored record the client can send: anything else in a segment is unreadable and removed. */
function readable(e: unknown): e is Rec {
  const r = e as Rec;
  return (
    !!r && typeof r === 'object' && typeof r.id === 'string' && r.id !== '' && typeof r.type === 'string' && typeof r.ts === 'number' &&
    Number.isFinite(r.ts) && typeof r.line === 'string' && r.line !== '' && (r.wire === undefined || r.wire === 'otlp' || r.wire === 'ingestion')
  );
}

/** Opens (lazily) the IndexedDB store. Never throws; every operation rejects instead, and never hangs. */
export function createIndexedDbStorage(opts: IndexedDbStorageOptions): IndexedDbStorage {
  const owner = opts.owner;
  const dbName = opts.dbName ?? 'outbox';
  const storeName = opts.storeName ?? 'segments';
  const now = opts.now ?? Date.now;
  const graceMs = opts.graceMs ?? SENT_GRACE_MS;
  const staleMs = opts.staleMs ?? HEARTBEAT_STALE_MS;
  const heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS;
  const removeDelayMs = opts.removeDelayMs ?? REMOVE_DELAY_MS;
  const timeoutMs = opts.timeoutMs ?? OP_TIMEOUT_MS;
  const parkMs = opts.parkMs ?? PARK_MS;
  const durability = opts.durability ?? 'relaxed';
  const liveOwners = opts.liveOwners;
  /** Without Web Locks, liveness is a heartbeat record written with every write and every heartbeatMs. */
  let heartbeats = !liveOwners;
  const ready = () => (typeof opts.ready === 'function' ? opts.ready() : (opts.ready ?? Promise.resolve()));
  if (typeof opts.ready === 'object') opts.ready.catch(() => undefined); // its failure is reported by the writes waiting on it
  const fault = (message: string) => {
    try {
      opts.onFault?.(new Error(message));
    } catch {
      /* a host callback must not break the store */
    }
  };

  /** This owner's segments: key → events by id. */
  const mine = new Map<string, Map<string, Rec>>();
  /** Event id → key of the segment holding it. */
  const index = new Map<string, string>();
  const dirty = new Set<string>();
  /** Keys of appended segments whose first write has not committed yet. */
  const uncommitted = new Set<string>();
  /** Keys whose last write failed: retried with the first write after the streak ends. */
  const failed = new Set<string>();
  let streak = 0;
  let faults = 0;
  let serial = 0;
  let transactions = 0;
  let heartbeatTimer: ReturnType<typeof setTimeout> | null = null;
  let nextAt: number | undefined;
  let aliveSeen: string[] = [];
  /** The park mark to write or delete with the next write. */
  let parkOp: 'delete' | null = null;

  let dbp: Promise<IDBDatabase> | null = null;
  /** The open connection, once known (park() needs it synchronously). */
  let connection: IDBDatabase | null = null;
  let blockedReported = false;

  function resetStore(): void {
    dbp = null;
    connection = null;
  }

  function connect(): Promise<IDBDatabase> {
    if (dbp) return dbp;
    const opening = openDatabase(dbName, storeName, () => {
      if (blockedReported) return;
      blockedReported = true;
      fault(`IndexedDB "${dbName}" open is blocked by another tab's connection; records stay in memory until it closes`);
    }).then((db) => {
      if (dbp !== opening) {
        db.close(); // given up on (timeout) meanwhile
        return db;
      }
      connection = db;
      // Another connection wants to upgrade or delete the database: let it, then rewrite what is ours (a delete
      // would otherwise take this tab's records with it).
      db.onversionchange = (event) => {
        db.close();
        if (connection === db) resetStore();
        const held = countHeld();
        fault(
          `IndexedDB "${dbName}" was ${event.newVersion === null ? 'deleted' : `upgraded to version ${event.newVersion}`} by another tab; ` +
            `this tab closed its connection and rewrites its ${held} stored record(s)`,
        );
        for (const key of mine.keys()) dirty.add(key);
        if (mine.size > 0) request(false).catch(() => undefined);
      };
      db.onclose = () => {
        if (connection === db) resetStore(); // closed by the browser (storage cleared, Safari's quirks)
      };
      return db;
    });
    dbp = opening;
    opening.catch(() => {
      if (dbp === opening) resetStore();
    });
    return opening;
  }

  /** One transaction; `fn` must settle when the transaction completes. Rejects on any error or after timeoutMs. */
  async function run<T>(mode: IDBTransactionMode, fn: (store: IDBObjectStore) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const opening = connect();
      try {
        const op = opening.then((db) => {
          const tx = mode === 'readwrite' ? db.transaction(storeName, mode, { durability }) : db.transaction(storeName, mode);
          if (mode === 'readwrite') transactions++;
          return fn(tx.objectStore(storeName));
        });
        return await withTimeout(op, timeoutMs);
      } catch (error) {
        if (dbp === opening) resetStore(); // a hung or broken connection: the next operation opens a new one
        // A connection closed under us (close(), versionchange): open a new one, once.
        if (attempt === 0 && (error as Error)?.name === 'InvalidStateError') continue;
        throw error;
      }
    }
  }

  function countHeld(): number {
    let n = 0;
    for (const m of mine.values()) n += m.size;
    return n;
  }

  function mirrorAdd(key: string, events: Rec[]): void {
    const m = new Map<string, Rec>();
    for (const e of events) {
      const old = index.get(e.id);
      if (old !== undefined && old !== key) {
        mine.get(old)?.delete(e.id);
        dirty.add(old);
      }
      m.set(e.id, e);
      index.set(e.id, key);
    }
    mine.set(key, m);
  }

  function newKey(): string {
    return `s:${now().toString(36).padStart(9, '0')}-${owner}-${(serial++).toString(36)}`;
  }

  // ---- coalesced writes: every dirty segment of this owner is written (or deleted) in one transaction ----
  let pending: Deferred | null = null;
  let running = false;
  let microtask = false;
  let timer: ReturnType<typeof setTimeout> | null = null;

  function request(urgent: boolean): Promise<void> {
    if (!pending) {
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      pending = { promise, resolve, reject, urgent: false };
    }
    pending.urgent ||= urgent;
    const p = pending.promise;
    arm();
    return p;
  }

  function arm(): void {
    if (!pending || running) return;
    if (pending.urgent) {
      if (timer !== null) clearTimeout(timer), (timer = null);
      if (!microtask) {
        microtask = true;
        queueMicrotask(write);
      }
    } else if (timer === null && !microtask) {
      timer = setTimeout(write, removeDelayMs);
    }
  }

  function write(): void {
    microtask = false;
    if (timer !== null) clearTimeout(timer), (timer = null);
    if (running || !pending) return;
    const job = pending;
    pending = null;
    running = true;
    // After a failure only new work is tried (a quota failure of an old segment must not sink new ones with it);
    // once a write succeeds, the failed segments go with the next one.
    if (streak === 0) for (const key of failed) dirty.add(key);
    const keys = [...dirty];
    dirty.clear();
    const unpark = parkOp;
    parkOp = null;
    if (heartbeats && heartbeatTimer === null) heartbeatTimer = setTimeout(beat, heartbeatMs);
    ready()
      .then(() =>
        run('readwrite', (store) => {
          try {
            for (const key of keys) {
              const seg = mine.get(key);
              if (!seg || seg.size === 0) {
                mine.delete(key);
                store.delete(key);
              } else {
                store.put({ owner, events: [...seg.values()] } satisfies Segment, key);
              }
            }
            if (unpark) store.delete(`p:${owner}`);
            if (heartbeats) store.put({ owner, at: now() }, `h:${owner}`);
          } catch (error) {
            store.transaction.abort(); // all or nothing (a put may throw: DataCloneError, QuotaExceededError)
            throw error;
          }
          const finished = done(store.transaction);
          // Commit now rather than when the renderer next idles: at pagehide the page may not get that chance.
          store.transaction.commit?.();
          return finished;
        }),
      )
      .then(
        () => {
          for (const key of keys) uncommitted.delete(key), failed.delete(key);
          for (const key of failed) if (!mine.has(key)) failed.delete(key);
          streak = 0;
          job.resolve();
        },
        (error) => {
          faults++;
          streak++;
          for (const key of keys) if (mine.has(key)) failed.add(key);
          if (unpark) parkOp ??= unpark;
          // The first failure of a streak is the client's to report; the rest are only counted.
          if (streak === 1) job.reject(error);
          else job.resolve();
        },
      )
      .finally(() => {
        running = false;
        arm();
      });
  }

  function beat(): void {
    heartbeatTimer = null;
    // Only an owner with segments needs to look alive; a failed heartbeat shows through the next append.
    if (heartbeats && mine.size > 0) request(true).catch(() => undefined);
  }

  async function recover(max = Infinity): Promise<StoredEvent[]> {
    if (max <= 0) return [];
    // 1. Which segments belong to others (read before asking about liveness: an owner that appended a segment
    //    held its lock before writing it, so a lock query made after this read sees every live owner of it).
    const seen = await run('readonly', (store) => req(store.getAllKeys(SEGMENTS())));
    const candidates = new Set(seen.map(String).filter((k) => !mine.has(k)));
    if (candidates.size === 0) return [];
    // 2. Who is alive.
    const live = liveOwners ? await liveOwners() : null;
    const at = now();
    nextAt = undefined;
    const aliveWithSegments = new Set<string>();
    let unreadable = 0;
    let firstUnreadable = '';
    // 3. Adopt in one transaction, re-reading each segment (another client may have adopted it meanwhile).
    const adopted = await run('readwrite', (store) =>
      new Promise<StoredEvent[]>((resolve, reject) => {
        const out: StoredEvent[] = [];
        const keysReq = store.getAllKeys(SEGMENTS());
        const valsReq = store.getAll(SEGMENTS());
        const parksReq = store.getAll(PARKS());
        const beatsReq = live === null ? store.getAll(BEATS()) : null;
        (beatsReq ?? parksReq).onsuccess = () => {
          try {
            const beatsBy = new Map<string, number>();
            for (const b of (beatsReq?.result ?? []) as { owner: string; at: number }[]) beatsBy.set(b.owner, b.at);
            const parkedUntil = new Map<string, number>();
            for (const p of parksReq.result as { owner?: unknown; at?: unknown }[]) {
              if (typeof p?.owner === 'string' && typeof p.at === 'number' && at - p.at < parkMs) parkedUntil.set(p.owner, p.at + parkMs);
            }
            const alive = (o: string) => o === owner || (live ? live.has(o) : at - (beatsBy.get(o) ?? -Infinity) <= staleMs);
            let budget = max;
            keysReq.result.forEach((k, i) => {
              const key = String(k);
              const seg = valsReq.result[i] as Segment | undefined;
              if (!candidates.has(key)) return;
              if (!seg || typeof seg !== 'object' || typeof seg.owner !== 'string' || !Array.isArray(seg.events)) {
                unreadable++;
                firstUnreadable ||= `segment ${key} is not {owner, events[]}`;
                store.delete(key);
                return;
              }
              if (alive(seg.owner)) {
                if (seg.owner !== owner) aliveWithSegments.add(seg.owner);
                return;
              }
              const until = parkedUntil.get(seg.owner);
              if (until !== undefined) {
                nextAt = Math.min(nextAt ?? Infinity, until); // in the back/forward cache: it may come back
                return;
              }
              const take: Rec[] = [];
              const leave: Rec[] = [];
              for (const e of seg.events) {
                if (!readable(e)) {
                  unreadable++;
                  firstUnreadable ||= `a record in ${key} lacks a string id/type/line or a numeric ts`;
                  continue;
                }
                const withheld = e.sentAt !== undefined && at - e.sentAt < graceMs;
                if (withheld) nextAt = Math.min(nextAt ?? Infinity, e.sentAt! + graceMs);
                if (!withheld && budget > 0) {
                  budget--;
                  take.push(plain(e));
                } else leave.push(e);
              }
              if (take.length === 0 && leave.length === seg.events.length) return;
              const adoptedKey = leave.length === 0 ? key : newKey();
              if (leave.length > 0) store.put({ owner: seg.owner, events: leave } satisfies Segment, key);
              else if (take.length === 0) store.delete(key);
              if (take.length > 0) {
                store.put({ owner, events: take } satisfies Segment, adoptedKey);
                mirrorAdd(adoptedKey, take);
                out.push(...take);
              }
            });
            if (heartbeats) store.put({ owner, at }, `h:${owner}`);
            store.transaction.commit?.();
          } catch (error) {
            store.transaction.abort();
            reject(error);
          }
        };
        done(store.transaction).then(() => {
          aliveSeen = [...aliveWithSegments];
          resolve(out.sort((a, b) => a.ts - b.ts));
        }, reject);
      }),
    );
    if (unreadable > 0) fault(`IndexedDB: ${unreadable} stored record(s) could not be read and were removed (${firstUnreadable})`);
    return adopted;
  }

  const durableNow = () => streak === 0 && failed.size === 0;

  return {
    get durable() {
      return durableNow();
    },
    get transactions() {
      return transactions;
    },
    get faults() {
      return faults;
    },
    durableNow,
    volatileCount() {
      let n = 0;
      for (const key of new Set([...uncommitted, ...failed])) n += mine.get(key)?.size ?? 0;
      return n;
    },
    append(events) {
      if (events.length === 0) return Promise.resolve();
      const key = newKey();
      mirrorAdd(key, events.map(plain));
      dirty.add(key);
      uncommitted.add(key);
      return request(true);
    },
    remove(ids) {
      let touched = false;
      for (const id of ids) {
        const key = index.get(id);
        if (key === undefined) continue;
        index.delete(id);
        mine.get(key)?.delete(id);
        dirty.add(key);
        touched = true;
      }
      // A crash before this is written only means a duplicate send later (deduplicated by id), never a loss.
      return touched ? request(false) : Promise.resolve();
    },
    markSent(ids, at) {
      let touched = false;
      for (const id of ids) {
        const key = index.get(id);
        const rec = key === undefined ? undefined : mine.get(key)?.get(id);
        if (!rec || key === undefined) continue;
        rec.sentAt = at;
        dirty.add(key);
        touched = true;
      }
      return touched ? request(true) : Promise.resolve();
    },
    recover,
    nextRecoveryAt: () => nextAt,
    liveOwnersSeen: () => aliveSeen,
    flushWrites() {
      return dirty.size > 0 || pending ? request(true) : Promise.resolve();
    },
    park() {
      parkOp = null;
      const db = connection;
      if (!db) return; // never opened: nothing of ours is stored to protect
      try {
        const tx = db.transaction(storeName, 'readwrite', { durability });
        transactions++;
        tx.objectStore(storeName).put({ owner, at: now() }, `p:${owner}`);
        done(tx).catch((error) => fault(`IndexedDB: marking this tab parked for the back/forward cache failed: ${String(error)}`));
        tx.commit?.();
      } catch (error) {
        fault(`IndexedDB: marking this tab parked for the back/forward cache failed: ${String(error)}`);
      }
    },
    unpark() {
      parkOp = 'delete';
      request(true).catch(() => undefined);
    },
    isCommitted(id) {
      const key = index.get(id);
      return key !== undefined && !uncommitted.has(key) && !failed.has(key);
    },
    size: countHeld,
    async close() {
      if (heartbeatTimer !== null) clearTimeout(heartbeatTimer);
      heartbeatTimer = null;
      const wasBeating = heartbeats;
      heartbeats = false;
      try {
        streak = 0; // the last chance: failed segments are tried once more
        if (dirty.size > 0 || pending || running || failed.size > 0) await request(true);
        // A clean close removes the heartbeat, so another client may adopt what is left at once.
        if (wasBeating) await run('readwrite', (store) => (store.delete(`h:${owner}`), done(store.transaction)));
      } finally {
        const db = connection;
        resetStore();
        db?.close();
        opts.onClosed?.();
      }
    },
  };
}

// One closure owns the segment mirror, the write coalescing and recovery: they share state that must not leak.
import { createStore, type UseStore } from 'idb-keyval';
import type { Storage, StoredEvent } from '../core/types';
import { done, req, withTimeout } from './idb-request';
import { plain } from '../core/record';

/**
 * Write-ahead storage in IndexedDB (through idb-keyval's `createStore`). One record, a *segment*, per `append`
 * call (the client appends once per task, so a burst of 10 000 `track()` calls is one segment and one
 * transaction: 1 000 single-record puts cost 53–94 ms here, platform-facts §4). Each segment records its owner (a
 * client/tab id); this instance only rewrites its own segments, through an in-memory mirror of them, and adopts
 * other owners' segments in `recover()` when the injected liveness check says their owner is gone.
 *
 * Keys: `s:<created, base36>-<owner>-<n>` for segments, `h:<owner>` for heartbeats (used only without Web Locks).
 */

/** A beaconed event (markSent) is recovered by another client only this long after it was sent. @default 60 s */
export const SENT_GRACE_MS = 60_000;
/** Without Web Locks: how often a client rewrites its heartbeat record. @default 20 s */
export const HEARTBEAT_MS = 20_000;
/**
 * Without Web Locks: an owner whose heartbeat is older than this is taken for gone. Hidden tabs' timers may be
 * throttled to once a minute (Chrome's intensive throttling), so this is several minutes. @default 3 min
 */
export const HEARTBEAT_STALE_MS = 180_000;
/** Removals (acknowledgements) are written at most this often unless an append writes anyway. @default 1000 ms */
export const REMOVE_DELAY_MS = 1000;
/** An IndexedDB operation that has not settled after this long is failed (a blocked open must not hang us). @default 10 s */
export const OP_TIMEOUT_MS = 10_000;

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
  ready?: Promise<unknown>;
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
  /** Epoch ms. @default Date.now */
  now?: () => number;
  /** Called once close() has written what it could (e.g. to release the owner's tab lock). */
  onClosed?: () => void;
}

/** The IndexedDB store: the Storage contract plus what recovery and the benchmark need. */
export interface IndexedDbStorage extends Storage {
  /** Readwrite transactions started so far (the benchmark reports them per burst). */
  readonly transactions: number;
  /** False once a write failed: what failed lives in memory only, so shutdown must not count on storage. */
  readonly durable: boolean;
  /** Adopts up to `max` events of gone owners (one transaction) and returns them, oldest first. */
  recover(max?: number): Promise<StoredEvent[]>;
  /** Owners the last recover() found alive with stored segments (their events wait for them to go). */
  liveOwnersSeen(): string[];
  /** When events withheld by the sent-grace period become recoverable (epoch ms), if any were seen. */
  nextRecoveryAt(): number | undefined;
  /** Writes pending removals now. */
  flushWrites(): Promise<void>;
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
  const liveOwners = opts.liveOwners;
  /** Without Web Locks, liveness is a heartbeat record written with every write and every heartbeatMs. */
  let heartbeats = !liveOwners;
  const ready = opts.ready ?? Promise.resolve();
  ready.catch(() => undefined); // its failure is reported by the writes waiting on it

  /** This owner's segments: key → events by id. */
  const mine = new Map<string, Map<string, Rec>>();
  /** Event id → key of the segment holding it. */
  const index = new Map<string, string>();
  const dirty = new Set<string>();
  /** Keys of appended segments whose first write has not committed yet. */
  const uncommitted = new Set<string>();
  let serial = 0;
  let transactions = 0;
  let degraded = false;
  let heartbeatTimer: ReturnType<typeof setTimeout> | null = null;
  let nextAt: number | undefined;
  let aliveSeen: string[] = [];

  let useStore: UseStore | null = null;
  const watched = new WeakSet<IDBDatabase>();
  /** The connection last used, closed by close(). */
  let connection: IDBDatabase | null = null;

  function resetStore(): void {
    useStore = null;
  }

  function watch(db: IDBDatabase): void {
    connection = db;
    if (watched.has(db)) return;
    watched.add(db);
    // Another connection wants to upgrade or delete the database: let it, and open again on the next operation.
    db.addEventListener('versionchange', () => {
      db.close();
      resetStore();
    });
    db.addEventListener('close', resetStore); // closed by the browser (storage cleared, Safari's quirks)
  }

  /** One transaction; `fn` must settle when the transaction completes. Rejects on any error or after timeoutMs. */
  async function run<T>(mode: IDBTransactionMode, fn: (store: IDBObjectStore) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        useStore ??= createStore(dbName, storeName);
        const op = useStore(mode, (store) => {
          watch(store.transaction.db);
          if (mode === 'readwrite') transactions++;
          return fn(store);
        });
        return await withTimeout(op, timeoutMs);
      } catch (error) {
        // A connection closed under us (close(), versionchange): open a new one, once.
        if (attempt === 0 && (error as Error)?.name === 'InvalidStateError') {
          resetStore();
          continue;
        }
        throw error;
      }
    }
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
    const keys = [...dirty];
    dirty.clear();
    if (heartbeats && heartbeatTimer === null) heartbeatTimer = setTimeout(beat, heartbeatMs);
    ready
      .then(() =>
        run('readwrite', (store) => {
          for (const key of keys) {
            const seg = mine.get(key);
            if (!seg || seg.size === 0) {
              mine.delete(key);
              store.delete(key);
            } else {
              store.put({ owner, events: [...seg.values()] } satisfies Segment, key);
            }
          }
          if (heartbeats) store.put({ owner, at: now() }, `h:${owner}`);
          const finished = done(store.transaction);
          // Commit now rather than when the renderer next idles: at pagehide the page may not get that chance.
          store.transaction.commit?.();
          return finished;
        }),
      )
      .then(() => {
        for (const key of keys) uncommitted.delete(key);
        job.resolve();
      }, (error) => {
        degraded = true;
        job.reject(error);
      })
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
    // 3. Adopt in one transaction, re-reading each segment (another client may have adopted it meanwhile).
    return run('readwrite', (store) =>
      new Promise<StoredEvent[]>((resolve, reject) => {
        const out: StoredEvent[] = [];
        const keysReq = store.getAllKeys(SEGMENTS());
        const valsReq = store.getAll(SEGMENTS());
        const beatsReq = live === null ? store.getAll(BEATS()) : null;
        (beatsReq ?? valsReq).onsuccess = () => {
          try {
            const beatsBy = new Map<string, number>();
            for (const b of (beatsReq?.result ?? []) as { owner: string; at: number }[]) beatsBy.set(b.owner, b.at);
            const alive = (o: string) => o === owner || (live ? live.has(o) : at - (beatsBy.get(o) ?? -Infinity) <= staleMs);
            let budget = max;
            keysReq.result.forEach((k, i) => {
              const key = String(k);
              const seg = valsReq.result[i] as Segment | undefined;
              if (!candidates.has(key) || !seg || !Array.isArray(seg.events)) return;
              if (alive(seg.owner)) {
                if (seg.owner !== owner) aliveWithSegments.add(seg.owner);
                return;
              }
              const take: Rec[] = [];
              const leave: Rec[] = [];
              for (const e of seg.events) {
                const withheld = e.sentAt !== undefined && at - e.sentAt < graceMs;
                if (withheld) nextAt = Math.min(nextAt ?? Infinity, e.sentAt! + graceMs);
                if (!withheld && budget > 0) {
                  budget--;
                  take.push(plain(e));
                } else leave.push(e);
              }
              if (take.length === 0) return;
              const adoptedKey = leave.length === 0 ? key : newKey();
              if (leave.length > 0) store.put({ owner: seg.owner, events: leave } satisfies Segment, key);
              store.put({ owner, events: take } satisfies Segment, adoptedKey);
              mirrorAdd(adoptedKey, take);
              out.push(...take);
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
  }

  return {
    get durable() {
      return !degraded;
    },
    get transactions() {
      return transactions;
    },
    append(events) {
      if (events.length === 0) return Promise.resolve();
      const key = newKey();
      mirrorAdd(
        key,
        events.map(plain),
      );
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
    isCommitted(id) {
      const key = index.get(id);
      return key !== undefined && !uncommitted.has(key);
    },
    size() {
      let n = 0;
      for (const m of mine.values()) n += m.size;
      return n;
    },
    async close() {
      if (heartbeatTimer !== null) clearTimeout(heartbeatTimer);
      heartbeatTimer = null;
      const wasBeating = heartbeats;
      heartbeats = false;
      try {
        if (dirty.size > 0 || pending || running) await request(true);
        // A clean close removes the heartbeat, so another client may adopt what is left at once.
        if (wasBeating) await run('readwrite', (store) => (store.delete(`h:${owner}`), done(store.transaction)));
      } finally {
        resetStore();
        connection?.close();
        connection = null;
        opts.onClosed?.();
      }
    },
  };
}

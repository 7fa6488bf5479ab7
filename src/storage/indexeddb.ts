// The IndexedDB store of a page's client: one closure owns its configuration, the mirror of this owner's segments,
// the connection and the coalesced writes; recovery (adopting gone owners' segments) runs inside it too. Requests
// and transactions are awaited with idb-keyval's promisifyRequest, and every operation goes through `run`, a store
// function of idb-keyval's shape (`UseStore`: the raw object store inside one transaction, for cursors and ranges).
// `run` opens the connection itself rather than with idb-keyval's createStore, which has none of what this store
// needs: a commit durability, a report of an open blocked by another tab, giving the connection up on
// `versionchange` (and rewriting our segments), adding our store to a database another tab upgraded without it,
// a timeout, and the synchronous transaction of park().
import { promisifyRequest, type UseStore } from 'idb-keyval';
import type { Storage, StoredEvent } from '../core/types';
import { plain } from '../core/record';
import { ANSWERED, type SentNotes } from './sent-notes';

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
 *
 * Sent-marks (`markSent`, the unload path's) go to the injected `sentNotes` (localStorage, written synchronously)
 * rather than into the segments: rewriting a segment of 2 000 records as the page leaves did not always commit
 * before the document was gone (platform-facts §12). recover() applies every note to what it adopts, writes the
 * marks it applied into the segments it leaves, and drops the notes of gone owners. A record's own `sentAt` in a
 * segment (written without notes, and by versions before them) is read as before: the segment layout is unchanged.
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
   * Where sent-marks are written (synchronously) and read by recovery; without it, or when it refuses a note, a
   * mark rewrites the records' segments in IndexedDB (a transaction started at once).
   */
  sentNotes?: SentNotes;
  /**
   * Records noted in flight outside IndexedDB (id → when their request started, epoch ms): a page without a service
   * worker notes its sends in localStorage (platform/inflight.ts), since a crash leaves no sent-mark. Adopted like
   * marked records: only after the grace period.
   */
  inflightNotes?: () => Map<string, number>;
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

/** A stored record; `sentAt` once it went out in a request whose answer may never be seen. */
type StoredRecord = StoredEvent & { sentAt?: number };
/** What one IndexedDB record under an `s:` key holds. */
interface Segment {
  owner: string;
  events: StoredRecord[];
}
/** A write asked for and not started yet: every caller since the last write waits on the same promise. */
interface PendingWrite {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
  urgent: boolean;
}

const SEGMENTS = () => IDBKeyRange.bound('s:', 's;', false, true);
const BEATS = () => IDBKeyRange.bound('h:', 'h;', false, true);
const PARKS = () => IDBKeyRange.bound('p:', 'p;', false, true);

/** A stored record the client can send: anything else in a segment is unreadable and removed. */
function readable(e: unknown): e is StoredRecord {
  const r = e as StoredRecord;
  return (
    !!r && typeof r === 'object' && typeof r.id === 'string' && r.id !== '' && typeof r.type === 'string' && typeof r.ts === 'number' &&
    Number.isFinite(r.ts) && typeof r.line === 'string' && r.line !== '' && (r.wire === undefined || r.wire === 'otlp' || r.wire === 'ingestion')
  );
}

/** Resolves when the transaction commits; rejects when it aborts or errs (with an Error when IndexedDB gives none). */
function committed(tx: IDBTransaction): Promise<void> {
  return promisifyRequest(tx).catch((error: unknown) => {
    throw error ?? new Error('IndexedDB transaction aborted');
  });
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`IndexedDB did not answer within ${ms} ms`)), ms);
    work.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}

/**
 * Opens `dbName` with object store `storeName`, creating either as needed. A database another tab upgraded without
 * our store (or recreated) is upgraded once more to add it. `onBlocked` hears of an open that waits for another
 * tab's connection to close. Rejects (never throws) when `indexedDB` is missing or refuses.
 */
function openDatabase(dbName: string, storeName: string, onBlocked: () => void): Promise<IDBDatabase> {
  const open = async (version?: number) => {
    const request = version === undefined ? indexedDB.open(dbName) : indexedDB.open(dbName, version);
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(storeName)) request.result.createObjectStore(storeName);
    };
    request.onblocked = onBlocked;
    return (await promisifyRequest(request).catch((error: unknown) => Promise.reject(error ?? new Error('IndexedDB open failed')))) as IDBDatabase;
  };
  return (async () => {
    const db = await open();
    if (db.objectStoreNames.contains(storeName)) return db;
    const version = db.version + 1;
    db.close();
    return open(version);
  })();
}

/** Opens (lazily) the IndexedDB store. Never throws; every operation rejects instead, and never hangs. */
export function createIndexedDbStorage(opts: IndexedDbStorageOptions): IndexedDbStorage {
  // ---- configuration, resolved once ----
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
  const whenReady = () => (typeof opts.ready === 'function' ? opts.ready() : (opts.ready ?? Promise.resolve()));
  if (typeof opts.ready === 'object') opts.ready.catch(() => undefined); // its failure is reported by the writes waiting on it
  const fault = (message: string) => {
    try {
      opts.onFault?.(new Error(message));
    } catch {
      /* a host callback must not break the store */
    }
  };
  /** Without Web Locks, liveness is a heartbeat record written with every write and every `heartbeatMs`. */
  let heartbeats = !liveOwners;

  // ---- the mirror of this owner's segments ----
  /** This owner's segments: key → events by id. */
  const mine = new Map<string, Map<string, StoredRecord>>();
  /** Event id → key of the segment holding it. */
  const keyOf = new Map<string, string>();
  const dirty = new Set<string>();
  /** Keys of appended segments whose first write has not committed yet. */
  const uncommitted = new Set<string>();
  /** Keys whose last write failed: retried with the first write after the streak ends. */
  const failedKeys = new Set<string>();
  let streak = 0;
  let faults = 0;
  let serial = 0;
  let transactions = 0;
  let heartbeatTimer: ReturnType<typeof setTimeout> | null = null;
  let nextRecoveryAt: number | undefined;
  let aliveSeen: string[] = [];
  /** The park mark to delete with the next write. */
  let parkOp: 'delete' | null = null;
  /** Held records marked sent (id → epoch ms, or ANSWERED): what this owner's sent-note says. */
  const noted = new Map<string, number>();
  /** Rewrites this owner's sent-note from `noted` (drops it when empty); false when localStorage refused it. */
  const writeNote = () => (noted.size > 0 ? opts.sentNotes?.write(owner, noted) : void opts.sentNotes?.drop(owner));

  // ---- the connection ----
  let dbp: Promise<IDBDatabase> | null = null;
  /** The open connection, once known (park() needs it synchronously). */
  let connection: IDBDatabase | null = null;
  let blockedReported = false;

  // ---- coalesced writes: every dirty segment of this owner is written (or deleted) in one transaction ----
  let pendingWrite: PendingWrite | null = null;
  let writing = false;
  let microtask = false;
  let writeTimer: ReturnType<typeof setTimeout> | null = null;

  const durableNow = () => streak === 0 && failedKeys.size === 0;

  function countHeld(): number {
    let n = 0;
    for (const m of mine.values()) n += m.size;
    return n;
  }

  function mirrorAdd(key: string, events: StoredRecord[]): void {
    const m = new Map<string, StoredRecord>();
    for (const e of events) {
      const old = keyOf.get(e.id);
      if (old !== undefined && old !== key) {
        mine.get(old)?.delete(e.id);
        dirty.add(old);
      }
      m.set(e.id, e);
      keyOf.set(e.id, key);
    }
    mine.set(key, m);
  }

  function newKey(): string {
    return `s:${now().toString(36).padStart(9, '0')}-${owner}-${(serial++).toString(36)}`;
  }

  function forgetConnection(): void {
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
        if (connection === db) forgetConnection();
        const held = countHeld();
        fault(
          `IndexedDB "${dbName}" was ${event.newVersion === null ? 'deleted' : `upgraded to version ${event.newVersion}`} by another tab; ` +
            `this tab closed its connection and rewrites its ${held} stored record(s)`,
        );
        for (const key of mine.keys()) dirty.add(key);
        if (mine.size > 0) request(false).catch(() => undefined);
      };
      db.onclose = () => {
        if (connection === db) forgetConnection(); // closed by the browser (storage cleared, Safari's quirks)
      };
      return db;
    });
    dbp = opening;
    opening.catch(() => {
      if (dbp === opening) forgetConnection();
    });
    return opening;
  }

  /**
   * The store function: `fn` gets the object store inside one transaction and must settle when the transaction
   * completes. Rejects on any error or after `timeoutMs`.
   */
  const run: UseStore = async (mode, fn) => {
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
        if (dbp === opening) forgetConnection(); // a hung or broken connection: the next operation opens a new one
        // A connection closed under us (close(), versionchange): open a new one, once.
        if (attempt === 0 && (error as Error)?.name === 'InvalidStateError') continue;
        throw error;
      }
    }
  };

  /** Asks for a write of every dirty segment; `urgent` in a microtask, else after `removeDelayMs`. */
  function request(urgent: boolean): Promise<void> {
    if (!pendingWrite) {
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      pendingWrite = { promise, resolve, reject, urgent: false };
    }
    pendingWrite.urgent ||= urgent;
    const p = pendingWrite.promise;
    arm();
    return p;
  }

  function arm(): void {
    if (!pendingWrite || writing) return;
    if (pendingWrite.urgent) {
      if (writeTimer !== null) clearTimeout(writeTimer), (writeTimer = null);
      if (!microtask) {
        microtask = true;
        queueMicrotask(write);
      }
    } else if (writeTimer === null && !microtask) {
      writeTimer = setTimeout(write, removeDelayMs);
    }
  }

  function write(): void {
    microtask = false;
    if (writeTimer !== null) clearTimeout(writeTimer), (writeTimer = null);
    if (writing || !pendingWrite) return;
    const job = pendingWrite;
    pendingWrite = null;
    writing = true;
    // After a failure only new work is tried (a quota failure of an old segment must not sink new ones with it);
    // once a write succeeds, the failed segments go with the next one.
    if (streak === 0) for (const key of failedKeys) dirty.add(key);
    const keys = [...dirty];
    dirty.clear();
    const unpark = parkOp;
    parkOp = null;
    if (heartbeats && heartbeatTimer === null) heartbeatTimer = setTimeout(beat, heartbeatMs);
    whenReady()
      .then(() =>
        run('readwrite', (store) => {
          try {
            putSegments(store, keys);
            if (unpark) store.delete(`p:${owner}`);
            if (heartbeats) store.put({ owner, at: now() }, `h:${owner}`);
          } catch (error) {
            store.transaction.abort(); // all or nothing (a put may throw: DataCloneError, QuotaExceededError)
            throw error;
          }
          const finished = committed(store.transaction);
          // Commit now rather than when the renderer next idles: at pagehide the page may not get that chance.
          store.transaction.commit?.();
          return finished;
        }),
      )
      .then(
        () => {
          for (const key of keys) uncommitted.delete(key), failedKeys.delete(key);
          for (const key of failedKeys) if (!mine.has(key)) failedKeys.delete(key);
          streak = 0;
          job.resolve();
        },
        (error) => {
          faults++;
          streak++;
          for (const key of keys) if (mine.has(key)) failedKeys.add(key);
          if (unpark) parkOp ??= unpark;
          // The first failure of a streak is the client's to report; the rest are only counted.
          if (streak === 1) job.reject(error);
          else job.resolve();
        },
      )
      .finally(() => {
        writing = false;
        arm();
      });
  }

  /** Puts the segments `keys` as the mirror holds them; empty ones are deleted. */
  function putSegments(store: IDBObjectStore, keys: string[]): void {
    for (const key of keys) {
      const seg = mine.get(key);
      if (!seg || seg.size === 0) {
        mine.delete(key);
        store.delete(key);
      } else {
        store.put({ owner, events: [...seg.values()] } satisfies Segment, key);
      }
    }
  }

  /**
   * Writes every dirty segment in a transaction started now, on the connection already open, even while another
   * write runs: IndexedDB runs overlapping readwrite transactions in the order they were created, so this one lands
   * after it, with the newer contents. For the marks written at pagehide, which must commit before the document
   * ends (queued behind a running write they can miss it, and the next load resends at once). The keys stay dirty
   * for an ordinary write after it, which confirms them committed (or retries them). Without a connection yet, an
   * ordinary urgent write.
   */
  function writeNow(): Promise<void> {
    const db = connection;
    // Only segments already committed: one whose append has not committed yet is spilled at pagehide instead
    // (platform/spill.ts), and writing it here too would store its records twice (the next load sent both copies:
    // duplicates at every reload in the soak).
    const keys = [...dirty].filter((key) => !uncommitted.has(key));
    if (!db || keys.length === 0) return request(true);
    try {
      const tx = db.transaction(storeName, 'readwrite', { durability });
      transactions++;
      putSegments(tx.objectStore(storeName), keys);
      tx.commit?.();
      request(false).catch(() => undefined);
      return committed(tx);
    } catch {
      return request(true);
    }
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
    const seen = await run('readonly', (store) => promisifyRequest(store.getAllKeys(SEGMENTS())));
    const candidates = new Set(seen.map(String).filter((k) => !mine.has(k)));
    /** Other owners' sent-notes (read in the adoption transaction, after the liveness query: see below). */
    const notes = () => (opts.sentNotes?.read() ?? []).filter(([o]) => o !== owner);
    if (candidates.size === 0 && notes().length === 0) return [];
    // 2. Who is alive.
    const live = liveOwners ? await liveOwners() : null;
    const at = now();
    nextRecoveryAt = undefined;
    const inflight = opts.inflightNotes?.();
    // What this pass found besides the events it took.
    const aliveWithSegments = new Set<string>();
    let unreadableCount = 0;
    let firstUnreadable = '';
    /** Notes of owners gone for good: dropped once the marks they hold are in the segments left behind. */
    let staleNotes: string[] = [];
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
            for (const p of [...(parksReq.result as { owner?: unknown; at?: unknown }[]), ...(opts.parkNotes?.() ?? [])]) {
              if (typeof p?.owner === 'string' && typeof p.at === 'number' && at - p.at < parkMs) parkedUntil.set(p.owner, p.at + parkMs);
            }
            const alive = (o: string) => o === owner || (live ? live.has(o) : at - (beatsBy.get(o) ?? -Infinity) <= staleMs);
            // Read now, after the liveness query: an owner that query saw gone wrote its last note before it.
            const found = notes();
            const markedAt = new Map<string, number>();
            for (const [, marks] of found) for (const [id, t] of marks) markedAt.set(id, t === ANSWERED || markedAt.get(id) === ANSWERED ? ANSWERED : Math.max(t, markedAt.get(id) ?? t));
            staleNotes = found.map(([o]) => o).filter((o) => !alive(o) && !parkedUntil.has(o));
            let budget = max;
            keysReq.result.forEach((k, i) => {
              const key = String(k);
              if (candidates.has(key)) budget = adoptSegment(store, out, key, valsReq.result[i] as Segment | undefined, alive, parkedUntil, markedAt, at, budget);
            });
            if (heartbeats) store.put({ owner, at }, `h:${owner}`);
            store.transaction.commit?.();
          } catch (error) {
            store.transaction.abort();
            reject(error);
          }
        };
        committed(store.transaction).then(() => {
          for (const o of staleNotes) opts.sentNotes!.drop(o);
          aliveSeen = [...aliveWithSegments];
          resolve(out.sort((a, b) => a.ts - b.ts));
        }, reject);
      }),
    );
    if (unreadableCount > 0) fault(`IndexedDB: ${unreadableCount} stored record(s) could not be read and were removed (${firstUnreadable})`);
    return adopted;

    /**
     * One other owner's segment, in the adoption transaction: removed if unreadable, left if its owner is alive or
     * parked, else up to `budget` of its sendable events moved into a segment of this owner (and into `out`); the
     * sent-marks of `markedAt` (the notes) apply as a record's own `sentAt` does, and are written into what is left.
     * Returns the budget left.
     */
    function adoptSegment(
      store: IDBObjectStore,
      out: StoredEvent[],
      key: string,
      seg: Segment | undefined,
      alive: (owner: string) => boolean,
      parkedUntil: Map<string, number>,
      markedAt: Map<string, number>,
      at: number,
      budget: number,
    ): number {
      if (!seg || typeof seg !== 'object' || typeof seg.owner !== 'string' || !Array.isArray(seg.events)) {
        unreadableCount++;
        firstUnreadable ||= `segment ${key} is not {owner, events[]}`;
        store.delete(key);
        return budget;
      }
      if (alive(seg.owner)) {
        if (seg.owner !== owner) aliveWithSegments.add(seg.owner);
        return budget;
      }
      const until = parkedUntil.get(seg.owner);
      if (until !== undefined) {
        nextRecoveryAt = Math.min(nextRecoveryAt ?? Infinity, until); // in the back/forward cache: it may come back
        return budget;
      }
      const take: StoredRecord[] = [];
      const leave: StoredRecord[] = [];
      let marked = false;
      for (let e of seg.events) {
        if (!readable(e)) {
          unreadableCount++;
          firstUnreadable ||= `a record in ${key} lacks a string id/type/line or a numeric ts`;
          continue;
        }
        const note = markedAt.get(e.id);
        if (note === ANSWERED) {
          marked = true; // answered before its owner's removal committed: delivered (or refused for good), so it goes
          continue;
        }
        if (note !== undefined && !(e.sentAt! >= note)) {
          e = { ...e, sentAt: note };
          marked = true;
        }
        const sentAt = e.sentAt ?? inflight?.get(e.id);
        const withheld = sentAt !== undefined && at - sentAt < graceMs;
        if (withheld) nextRecoveryAt = Math.min(nextRecoveryAt ?? Infinity, sentAt + graceMs);
        if (!withheld && budget > 0) {
          budget--;
          take.push(plain(e));
        } else leave.push(e);
      }
      if (take.length === 0 && leave.length === seg.events.length && !marked) return budget;
      const adoptedKey = leave.length === 0 ? key : newKey();
      if (leave.length > 0) store.put({ owner: seg.owner, events: leave } satisfies Segment, key);
      else if (take.length === 0) store.delete(key);
      if (take.length > 0) {
        store.put({ owner, events: take } satisfies Segment, adoptedKey);
        mirrorAdd(adoptedKey, take);
        out.push(...take);
      }
      return budget;
    }
  }


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
      for (const key of new Set([...uncommitted, ...failedKeys])) n += mine.get(key)?.size ?? 0;
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
      const answered: string[] = [];
      for (const id of ids) {
        if (noted.has(id)) noted.set(id, ANSWERED), answered.push(id);
        const key = keyOf.get(id);
        if (key === undefined) continue;
        keyOf.delete(id);
        mine.get(key)?.delete(id);
        dirty.add(key);
        touched = true;
      }
      // A crash before this is written only means a duplicate send later (deduplicated by id), never a loss.
      const written = touched ? request(false) : Promise.resolve();
      if (answered.length > 0) {
        // Marked records answered as the page leaves (a keepalive's answer between beforeunload and pagehide): the
        // note says so synchronously, since the removal may not commit before the document is gone, and forgets
        // them once it has (the note goes with the last of them).
        writeNote();
        written.then(() => {
          for (const id of answered) noted.delete(id);
          writeNote();
        }, () => undefined);
      }
      return written;
    },
    markSent(ids, at) {
      const keys = new Set<string>();
      for (const id of ids) {
        const key = keyOf.get(id);
        const rec = key === undefined ? undefined : mine.get(key)?.get(id);
        if (!rec || key === undefined) continue;
        rec.sentAt = at; // written into the segment with its next write, whatever causes it
        noted.set(id, at);
        keys.add(key);
      }
      if (keys.size === 0) return Promise.resolve();
      // A sent-note, written synchronously: stored before this task ends, however soon the document goes.
      if (writeNote()) return Promise.resolve();
      // Without one: the segments, in a transaction issued at once, not behind a write still running (see writeNow).
      for (const key of keys) dirty.add(key);
      return writeNow();
    },
    recover,
    nextRecoveryAt: () => nextRecoveryAt,
    liveOwnersSeen: () => aliveSeen,
    flushWrites() {
      return dirty.size > 0 || pendingWrite ? request(true) : Promise.resolve();
    },
    park() {
      // A transaction started synchronously, on the connection already open.
      parkOp = null;
      const db = connection;
      if (!db) return; // never opened: nothing of ours is stored to protect
      try {
        const tx = db.transaction(storeName, 'readwrite', { durability });
        transactions++;
        tx.objectStore(storeName).put({ owner, at: now() }, `p:${owner}`);
        committed(tx).catch((error) => fault(`IndexedDB: marking this tab parked for the back/forward cache failed: ${String(error)}`));
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
      const key = keyOf.get(id);
      return key !== undefined && !uncommitted.has(key) && !failedKeys.has(key);
    },
    size: countHeld,
    // The last write (failed segments once more), the heartbeat removed, the connection closed.
    async close() {
      if (heartbeatTimer !== null) clearTimeout(heartbeatTimer);
      heartbeatTimer = null;
      const wasBeating = heartbeats;
      heartbeats = false;
      try {
        streak = 0; // the last chance: failed segments are tried once more
        if (dirty.size > 0 || pendingWrite || writing || failedKeys.size > 0) await request(true);
        // A clean close removes the heartbeat, so another client may adopt what is left at once.
        if (wasBeating) await run('readwrite', (store) => (store.delete(`h:${owner}`), committed(store.transaction)));
      } finally {
        const db = connection;
        forgetConnection();
        db?.close();
        opts.onClosed?.();
      }
    },
  };
}

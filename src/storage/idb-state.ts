import type { StoredEvent } from '../core/types';

/** A stored event; `sentAt` once it went out in a request whose answer may never be seen. */
export type Rec = StoredEvent & { sentAt?: number };
/** What one IndexedDB record under an `s:` key holds. */
export interface Segment {
  owner: string;
  events: Rec[];
}
export interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
  urgent: boolean;
}

/**
 * One store's state, shared by its connection, its coalesced writes and recovery (idb-write.ts, idb-recover.ts).
 * It never leaves the store: createIndexedDbStorage returns methods over it.
 */
export interface IdbState {
  // ---- configuration, resolved once ----
  ownerId: string;
  dbId: string;
  storeId: string;
  nowFn: () => number;
  graceFor: number;
  staleAfter: number;
  beatEvery: number;
  removeAfter: number;
  opTimeout: number;
  parkFor: number;
  txDurability: IDBTransactionDurability;
  liveCheck: (() => Promise<Set<string>>) | undefined;
  parkNotes: (() => { owner: string; at: number }[]) | undefined;
  whenReady: () => Promise<unknown>;
  fault: (message: string) => void;
  /** Without Web Locks, liveness is a heartbeat record written with every write and every `beatEvery` ms. */
  heartbeats: boolean;

  // ---- the mirror of this owner's segments ----
  /** This owner's segments: key → events by id. */
  mine: Map<string, Map<string, Rec>>;
  /** Event id → key of the segment holding it. */
  keyOf: Map<string, string>;
  dirty: Set<string>;
  /** Keys of appended segments whose first write has not committed yet. */
  uncommitted: Set<string>;
  /** Keys whose last write failed: retried with the first write after the streak ends. */
  failedKeys: Set<string>;
  streak: number;
  faultCount: number;
  serial: number;
  txCount: number;
  heartbeatTimer: ReturnType<typeof setTimeout> | null;
  nextAt?: number;
  aliveSeen: string[];
  /** The park mark to write or delete with the next write. */
  parkOp: 'delete' | null;

  // ---- the connection ----
  dbp: Promise<IDBDatabase> | null;
  /** The open connection, once known (park() needs it synchronously). */
  connection: IDBDatabase | null;
  blockedReported: boolean;

  // ---- coalesced writes: every dirty segment of this owner is written (or deleted) in one transaction ----
  pendingJob: Deferred | null;
  writing: boolean;
  microtask: boolean;
  writeTimer: ReturnType<typeof setTimeout> | null;
}

export function countHeld(st: IdbState): number {
  let n = 0;
  for (const m of st.mine.values()) n += m.size;
  return n;
}

export function mirrorAdd(st: IdbState, key: string, events: Rec[]): void {
  const m = new Map<string, Rec>();
  for (const e of events) {
    const old = st.keyOf.get(e.id);
    if (old !== undefined && old !== key) {
      st.mine.get(old)?.delete(e.id);
      st.dirty.add(old);
    }
    m.set(e.id, e);
    st.keyOf.set(e.id, key);
  }
  st.mine.set(key, m);
}

export function newKey(st: IdbState): string {
  return `s:${st.nowFn().toString(36).padStart(9, '0')}-${st.ownerId}-${(st.serial++).toString(36)}`;
}

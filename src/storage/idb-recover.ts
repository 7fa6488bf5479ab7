import type { StoredEvent } from '../core/types';
import { plain } from '../core/record';
import { done, req } from './idb-request';
import { mirrorAdd, newKey, type IdbState, type Rec, type Segment } from './idb-state';
import { run } from './idb-write';

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

/** What one adoption pass found besides the events it took. */
interface Pass {
  aliveWithSegments: Set<string>;
  unreadableCount: number;
  firstUnreadable: string;
}

/** See IndexedDbStorage.recover(). */
export async function recover(st: IdbState, max = Infinity): Promise<StoredEvent[]> {
  if (max <= 0) return [];
  // 1. Which segments belong to others (read before asking about liveness: an owner that appended a segment
  //    held its lock before writing it, so a lock query made after this read sees every live owner of it).
  const seen = await run(st, 'readonly', (store) => req(store.getAllKeys(SEGMENTS())));
  const candidates = new Set(seen.map(String).filter((k) => !st.mine.has(k)));
  if (candidates.size === 0) return [];
  // 2. Who is alive.
  const live = st.liveCheck ? await st.liveCheck() : null;
  const at = st.nowFn();
  st.nextAt = undefined;
  const pass: Pass = { aliveWithSegments: new Set(), unreadableCount: 0, firstUnreadable: '' };
  // 3. Adopt in one transaction, re-reading each segment (another client may have adopted it meanwhile).
  const adopted = await run(st, 'readwrite', (store) =>
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
          for (const p of [...(parksReq.result as { owner?: unknown; at?: unknown }[]), ...(st.parkNotes?.() ?? [])]) {
            if (typeof p?.owner === 'string' && typeof p.at === 'number' && at - p.at < st.parkFor) parkedUntil.set(p.owner, p.at + st.parkFor);
          }
          const alive = (o: string) => o === st.ownerId || (live ? live.has(o) : at - (beatsBy.get(o) ?? -Infinity) <= st.staleAfter);
          let budget = max;
          keysReq.result.forEach((k, i) => {
            const key = String(k);
            if (candidates.has(key)) budget = adoptSegment(st, store, pass, out, key, valsReq.result[i] as Segment | undefined, alive, parkedUntil, at, budget);
          });
          if (st.heartbeats) store.put({ owner: st.ownerId, at }, `h:${st.ownerId}`);
          store.transaction.commit?.();
        } catch (error) {
          store.transaction.abort();
          reject(error);
        }
      };
      done(store.transaction).then(() => {
        st.aliveSeen = [...pass.aliveWithSegments];
        resolve(out.sort((a, b) => a.ts - b.ts));
      }, reject);
    }),
  );
  if (pass.unreadableCount > 0) st.fault(`IndexedDB: ${pass.unreadableCount} stored record(s) could not be read and were removed (${pass.firstUnreadable})`);
  return adopted;
}

/**
 * One other owner's segment, in the adoption transaction: removed if unreadable, left if its owner is alive or
 * parked, else up to `budget` of its sendable events moved into a segment of this owner (and into `out`).
 * Returns the budget left.
 */
function adoptSegment(
  st: IdbState,
  store: IDBObjectStore,
  pass: Pass,
  out: StoredEvent[],
  key: string,
  seg: Segment | undefined,
  alive: (owner: string) => boolean,
  parkedUntil: Map<string, number>,
  at: number,
  budget: number,
): number {
  if (!seg || typeof seg !== 'object' || typeof seg.owner !== 'string' || !Array.isArray(seg.events)) {
    pass.unreadableCount++;
    pass.firstUnreadable ||= `segment ${key} is not {owner, events[]}`;
    store.delete(key);
    return budget;
  }
  if (alive(seg.owner)) {
    if (seg.owner !== st.ownerId) pass.aliveWithSegments.add(seg.owner);
    return budget;
  }
  const until = parkedUntil.get(seg.owner);
  if (until !== undefined) {
    st.nextAt = Math.min(st.nextAt ?? Infinity, until); // in the back/forward cache: it may come back
    return budget;
  }
  const take: Rec[] = [];
  const leave: Rec[] = [];
  for (const e of seg.events) {
    if (!readable(e)) {
      pass.unreadableCount++;
      pass.firstUnreadable ||= `a record in ${key} lacks a string id/type/line or a numeric ts`;
      continue;
    }
    const withheld = e.sentAt !== undefined && at - e.sentAt < st.graceFor;
    if (withheld) st.nextAt = Math.min(st.nextAt ?? Infinity, e.sentAt! + st.graceFor);
    if (!withheld && budget > 0) {
      budget--;
      take.push(plain(e));
    } else leave.push(e);
  }
  if (take.length === 0 && leave.length === seg.events.length) return budget;
  const adoptedKey = leave.length === 0 ? key : newKey(st);
  if (leave.length > 0) store.put({ owner: seg.owner, events: leave } satisfies Segment, key);
  else if (take.length === 0) store.delete(key);
  if (take.length > 0) {
    store.put({ owner: st.ownerId, events: take } satisfies Segment, adoptedKey);
    mirrorAdd(st, adoptedKey, take);
    out.push(...take);
  }
  return budget;
}

import type { DedupWindow } from './dedup';
import type { ClaimTiming, DedupNamespace, createSharedDedup } from './dedup-shared';

/** The keys one forwarding took for itself, and the call that hands them back once it is over. */
export interface Claim {
  /** The request's keys no window had, now reserved (empty: nothing to forward, nothing reserved). */
  fresh: string[];
  /** Keys another relay instance is forwarding right now (shared window only): neither forward nor acknowledge. */
  busy: string[];
  /**
   * Releases the reservation, wakes resends waiting on these keys, and tells the shared window (if any) which
   * of them were `taken`; call it exactly once. The promise (never rejecting) is the shared window's settle.
   */
  free(taken: ReadonlySet<string>): Promise<void>;
}

/** The shared window for one request: its namespace and the claim's lease and wait. */
export type SharedTarget = ClaimTiming & { namespace: DedupNamespace };

/**
 * In-flight claims: keys being forwarded right now → settles when that forwarding is over, so a resend waits
 * (three rounds at most) instead of racing its original. A key still in flight after the wait is forwarded
 * again: a possible duplicate upstream, never a loss. With a shared window (OutboxDedup), the keys this instance
 * reserved are then claimed there too, so another instance's copy waits for, or is refused by, this one.
 */
export function createClaims(dedup: DedupWindow, shared?: ReturnType<typeof createSharedDedup>): { claim(unique: readonly string[], target?: SharedTarget): Promise<Claim> } {
  const inflight = new Map<string, Promise<void>>();
  return {
    async claim(unique, target) {
      for (let round = 0; round < 3; round++) {
        const pending = new Set<Promise<void>>();
        for (const k of unique) {
          const p = inflight.get(k);
          if (p) pending.add(p);
        }
        if (pending.size === 0) break;
        await Promise.all(pending);
      }
      // No await between the last check above and the reservation below: the check and the claim are one step.
      const local = unique.filter((k) => !dedup.has(k));
      if (local.length === 0) return { fresh: local, busy: [], free: async () => {} };
      let release!: () => void;
      const reservation = new Promise<void>((resolve) => (release = resolve));
      for (const k of local) inflight.set(k, reservation);
      const freeLocal = () => {
        for (const k of local) if (inflight.get(k) === reservation) inflight.delete(k);
        release();
      };
      if (!shared || !target) {
        return {
          fresh: local,
          busy: [],
          free: async () => freeLocal(),
        };
      }
      const s = await shared(target.namespace, local, target);
      // Taken by another instance: this instance's window remembers them too, so its next resend stays local.
      if (s.seen.length > 0) dedup.remember(s.seen);
      return {
        fresh: s.claimed,
        busy: s.busy,
        free: (taken) => {
          freeLocal();
          return s.settle(taken);
        },
      };
    },
  };
}

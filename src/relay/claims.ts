import type { DedupWindow } from './dedup';

/** The keys one forwarding took for itself, and the call that hands them back once it is over. */
export interface Claim {
  /** The request's keys the window did not have, now reserved (empty: nothing to forward, nothing reserved). */
  fresh: string[];
  /** Releases the reservation and wakes resends waiting on these keys; call it exactly once. */
  free(): void;
}

/**
 * In-flight claims: keys being forwarded right now → settles when that forwarding is over, so a resend waits
 * (three rounds at most) instead of racing its original. A key still in flight after the wait is forwarded
 * again: a possible duplicate upstream, never a loss.
 */
export function createClaims(dedup: DedupWindow): { claim(unique: readonly string[]): Promise<Claim> } {
  const inflight = new Map<string, Promise<void>>();
  return {
    async claim(unique) {
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
      const fresh = unique.filter((k) => !dedup.has(k));
      if (fresh.length === 0) return { fresh, free: () => {} };
      let release!: () => void;
      const reservation = new Promise<void>((resolve) => (release = resolve));
      for (const k of fresh) inflight.set(k, reservation);
      const free = () => {
        for (const k of fresh) if (inflight.get(k) === reservation) inflight.delete(k);
        release();
      };
      return { fresh, free };
    },
  };
}

/**
 * Record ids the upstream (or the queue) already took, for `ttlMs`, at most `maxIds` (the oldest forgotten
 * first). A Map keeps insertion order, so the oldest entry is always the first one.
 */
export interface DedupWindow {
  has(key: string): boolean;
  remember(keys: Iterable<string>): void;
  readonly size: number;
}

export function createDedupWindow(maxIds: number, ttlMs: number, now: () => number): DedupWindow {
  const seen = new Map<string, number>(); // key → when remembered
  const expire = (at: number) => {
    for (const [key, when] of seen) {
      if (at - when < ttlMs) break;
      seen.delete(key);
    }
  };
  return {
    has(key) {
      const when = seen.get(key);
      if (when === undefined) return false;
      if (now() - when >= ttlMs) {
        expire(now());
        return false;
      }
      return true;
    },
    remember(keys) {
      if (maxIds === 0 || ttlMs === 0) return;
      const at = now();
      expire(at);
      for (const key of keys) {
        seen.delete(key); // re-inserted at the end: remembered afresh
        seen.set(key, at);
        if (seen.size > maxIds) seen.delete(seen.keys().next().value as string);
      }
    },
    get size() {
      return seen.size;
    },
  };
}

// Which of a request's records may be forwarded: the ids already taken (this instance's window), the ones being
// forwarded right now (in-flight claims, so a resend waits for its original), and, with the `dedup` option, the
// same two across every relay instance through the OutboxDedup Durable Object (dedup-object.ts is the object's side).
import type { ClaimAnswer, SeenAnswer, SettleAnswer } from './dedup-object';
import type { DedupNamespace, ResolvedRelayOptions } from './options';
import type { Tell } from './stats';

/** The keys one forwarding took for itself, and the call that hands them back once it is over. */
interface Claim {
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

/** A claim's lease beyond the forwarding's own timeout (the settle call, a slow queue), and the object's largest. */
const LEASE_MARGIN_MS = 10_000;
const MAX_LEASE_MS = 600_000;

/** The relay's dedup windows: what was taken, what is in flight, and (with the `dedup` binding) the shared ones. */
export interface Claims {
  /** Claims the keys for one forwarding (a beacon's holds them longer), in the `namespace` object too if given. */
  claim(unique: readonly string[], namespace: DedupNamespace | undefined, beacon: boolean): Promise<Claim>;
  remember(keys: Iterable<string>): void;
  /**
   * Which of `unique` were taken (the receipts query): keys in flight here are waited for first (three rounds at
   * most, as a claim waits), then the ones this instance's window lacks are asked of the `namespace` object, which
   * waits for keys another instance holds. Reserves nothing; a failing object call fails open to this answer.
   */
  taken(unique: readonly string[], namespace: DedupNamespace | undefined): Promise<string[]>;
}

/**
 * In-flight claims: keys being forwarded right now → settles when that forwarding is over, so a resend waits
 * (three rounds at most) instead of racing its original. A key still in flight after the wait is forwarded
 * again: a possible duplicate upstream, never a loss. With a shared window (OutboxDedup), the keys this instance
 * reserved are then claimed there too, so another instance's copy waits for, or is refused by, this one.
 */
export function createClaims(o: ResolvedRelayOptions, tell: Tell): Claims {
  const dedup = createDedupWindow(o.dedupWindow.maxIds, o.dedupWindow.ttlMs, o.now);
  const shared = createSharedDedup(o.dedupWindow, o.dedupShards, tell, o.onError === undefined);
  const inflight = new Map<string, Promise<void>>();
  /** Lease and wait of a shared claim: a forwarding holds its keys at most this long (the relay's own bounds). */
  const syncLease = o.upstreamTimeoutMs + LEASE_MARGIN_MS;
  const beaconLease = Math.min(MAX_LEASE_MS, o.beaconRetry.budgetMs + o.upstreamTimeoutMs + LEASE_MARGIN_MS);
  const waitMs = Math.min(MAX_LEASE_MS, o.upstreamTimeoutMs);
  /** Waits for the forwardings of these keys in flight here, three rounds at most. */
  const settled = async (unique: readonly string[]) => {
    for (let round = 0; round < 3; round++) {
      const pending = new Set<Promise<void>>();
      for (const k of unique) {
        const p = inflight.get(k);
        if (p) pending.add(p);
      }
      if (pending.size === 0) break;
      await Promise.all(pending);
    }
  };
  return {
    /** Remembers keys the upstream (or the queue) took, in this instance's window. */
    remember: (keys) => dedup.remember(keys),
    async taken(unique, namespace) {
      await settled(unique);
      const local = unique.filter((k) => dedup.has(k));
      const rest = unique.filter((k) => !dedup.has(k));
      if (!namespace || rest.length === 0) return local;
      return [...local, ...(await shared.seen(namespace, rest, waitMs))];
    },
    async claim(unique, namespace, beacon) {
      await settled(unique);
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
      if (!namespace) {
        return {
          fresh: local,
          busy: [],
          free: async () => freeLocal(),
        };
      }
      const s = await shared.claim(namespace, local, { leaseMs: Math.min(MAX_LEASE_MS, beacon ? beaconLease : syncLease), waitMs });
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

// ── This instance's window ──

/**
 * Record ids the upstream (or the queue) already took, for `ttlMs`, at most `maxIds` (the oldest forgotten
 * first). A Map keeps insertion order, so the oldest entry is always the first one.
 */
interface DedupWindow {
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

// ── The shared window: the relay's side of OutboxDedup ──

/** What the shared object made of one request's keys, and the call that reports how the forwarding went. */
interface SharedClaim {
  /** Held for this relay until settled: forward these. */
  claimed: string[];
  /** Another relay instance forwards these right now (still, after waiting): neither forward nor acknowledge. */
  busy: string[];
  /** Taken by some instance within the window: acknowledge without forwarding. */
  seen: string[];
  /** Marks the `taken` claimed keys as taken and releases the rest. Never rejects. */
  settle(taken: ReadonlySet<string>): Promise<void>;
}

/** How long a claim holds its keys and how long it waits for keys another instance holds (ms). */
interface ClaimTiming {
  leaseMs: number;
  waitMs: number;
}

/** A settle call gives up after this long; a claim after its wait plus as long again, 1–5 s (then the relay fails open). */
const CALL_MARGIN_MS = 5000;
const claimTimeout = (waitMs: number) => waitMs + Math.min(CALL_MARGIN_MS, Math.max(1000, waitMs));

/** FNV-1a: which shard holds a key (the same key always goes to the same object). */
function shardOf(key: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % shards;
}

/**
 * The relay's side of the shared dedup window (OutboxDedup): one claim call per shard a request's keys fall in
 * (one in all by default), answered atomically by the object; one settle call per shard after the forwarding; one
 * seen call per shard for a receipts query. A call that fails (throws, answers non-2xx or nonsense, or outlasts
 * its wait by as long again, 1–5 s) fails open: a claim's keys count as claimed and only this instance's window
 * protects them, a seen call's keys are answered by this instance's window alone; each failure is counted
 * (`sharedFailures`), the first one reported (onError, else one console warning).
 */
function createSharedDedup(window: { maxIds: number; ttlMs: number }, shards: number, tell: Tell, warn: boolean) {
  const { count, report, log } = tell;
  const perShard = { maxIds: Math.ceil(window.maxIds / shards), ttlMs: window.ttlMs };
  let warned = false;

  const fail = (what: string, error: unknown) => {
    count('sharedFailures');
    const message = `relay: the dedup object (OutboxDedup) failed on ${what}: ${String((error as Error)?.message ?? error)}; deduplicating per instance meanwhile`;
    if (warned) return log(message);
    warned = true;
    report(new Error(message));
    if (warn) console.warn(`[outbox relay] ${message}`);
  };

  async function call<T>(stub: ReturnType<DedupNamespace['get']>, path: string, body: unknown, timeoutMs: number): Promise<T> {
    let timer!: ReturnType<typeof setTimeout>;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)));
    try {
      const request = stub.fetch(`https://outbox-dedup${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      const response = await Promise.race([request, timeout]);
      const text = await Promise.race([response.text(), timeout]);
      if (!response.ok) throw new Error(`HTTP ${response.status} ${text.slice(0, 200)}`);
      return JSON.parse(text) as T;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The keys grouped by the object (shard) that holds them, each group with that object's stub. */
  const byShard = (namespace: DedupNamespace, keys: readonly string[]) => {
    const groups = new Map<number, string[]>();
    for (const k of keys) {
      const s = shards === 1 ? 0 : shardOf(k, shards);
      let g = groups.get(s);
      if (!g) groups.set(s, (g = []));
      g.push(k);
    }
    return [...groups].map(([shard, group]) => ({
      group,
      stub: () => namespace.get(namespace.idFromName(shards === 1 ? 'outbox-dedup' : `outbox-dedup/${shard}/${shards}`)),
    }));
  };

  /** The keys the objects know as taken (waiting up to `waitMs` for held ones); a failed call answers none of its keys. */
  async function seen(namespace: DedupNamespace, keys: readonly string[], waitMs: number): Promise<string[]> {
    const answers = await Promise.all(
      byShard(namespace, keys).map(async ({ group, stub }) => {
        try {
          const a = await call<SeenAnswer>(stub(), '/seen', { keys: group, waitMs, ...perShard }, claimTimeout(waitMs));
          if (typeof a?.status !== 'string' || a.status.length !== group.length || /[^sn]/.test(a.status)) throw new Error('an answer that is not a seen status');
          return group.filter((_, i) => a.status[i] === 's');
        } catch (error) {
          fail('seen', error);
          return [];
        }
      }),
    );
    return answers.flat();
  }

  async function claim(namespace: DedupNamespace, keys: readonly string[], timing: ClaimTiming): Promise<SharedClaim> {
    const answers = await Promise.all(
      byShard(namespace, keys).map(async ({ group, stub: stubOf }) => {
        let stub: ReturnType<DedupNamespace['get']> | undefined;
        try {
          stub = stubOf();
          const a = await call<ClaimAnswer>(stub, '/claim', { keys: group, ...timing, ...perShard }, claimTimeout(timing.waitMs));
          if (typeof a?.token !== 'string' || typeof a.status !== 'string' || a.status.length !== group.length || /[^scb]/.test(a.status)) {
            throw new Error('an answer that is not a claim');
          }
          if (a.evicted > 0) count('sharedEvicted', a.evicted);
          return { stub, token: a.token, group, status: a.status };
        } catch (error) {
          fail('claim', error);
          return { stub: undefined, token: '', group, status: 'c'.repeat(group.length) }; // fail open: ours, unshared
        }
      }),
    );
    const claimed: string[] = [];
    const busy: string[] = [];
    const seen: string[] = [];
    for (const p of answers) {
      for (let i = 0; i < p.group.length; i++) {
        const c = p.status[i];
        if (c === 'c') claimed.push(p.group[i]!);
        else if (c === 'b') busy.push(p.group[i]!);
        else seen.push(p.group[i]!);
      }
    }
    if (seen.length > 0) count('sharedDuplicates', seen.length);
    if (busy.length > 0) count('sharedBusy', busy.length);
    return {
      claimed,
      busy,
      seen,
      settle: async (taken) => {
        await Promise.all(
          answers.map(async (p) => {
            if (p.stub === undefined) return;
            const mine = p.group.filter((_, i) => p.status[i] === 'c');
            if (mine.length === 0) return;
            const done = mine.filter((k) => taken.has(k));
            const release = mine.filter((k) => !taken.has(k));
            try {
              const a = await call<SettleAnswer>(p.stub, '/settle', { token: p.token, done, release, ...perShard }, CALL_MARGIN_MS);
              if (a?.evicted > 0) count('sharedEvicted', a.evicted);
            } catch (error) {
              fail('settle', error);
            }
          }),
        );
      },
    };
  }

  return { claim, seen };
}

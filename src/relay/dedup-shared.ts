import type { ClaimAnswer, SettleAnswer } from './dedup-object';
import type { Log, Report } from './log';
import type { Count } from './stats';

/** A Durable Object namespace binding of the OutboxDedup class (`env.OUTBOX_DEDUP`), typed by what the relay uses. */
export interface DedupNamespace {
  idFromName(name: string): unknown;
  get(id: any): { fetch(input: string, init?: RequestInit): Promise<Response> };
}

/** What the shared object made of one request's keys, and the call that reports how the forwarding went. */
export interface SharedClaim {
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
export interface ClaimTiming {
  leaseMs: number;
  waitMs: number;
}

/** A settle call gives up after this long; a claim after its wait plus as long again, 1–5 s (then the relay fails open). */
const CALL_MARGIN_MS = 5000;
const claimTimeout = (waitMs: number) => waitMs + Math.min(CALL_MARGIN_MS, Math.max(1000, waitMs));

type Parts = { window: { maxIds: number; ttlMs: number }; shards: number; count: Count; report: Report; log: Log; warn: boolean };

/** FNV-1a: which shard holds a key (the same key always goes to the same object). */
function shardOf(key: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % shards;
}

/**
 * The relay's side of the shared dedup window (OutboxDedup): one claim call per shard a request's keys fall in
 * (one in all by default), answered atomically by the object; one settle call per shard after the forwarding. A
 * call that fails (throws, answers non-2xx or nonsense, or outlasts its wait by as long again, 1–5 s) fails open: its keys count as
 * claimed and only this instance's window protects them; each failure is counted (`sharedFailures`), the first
 * one reported (onError, else one console warning).
 */
export function createSharedDedup(parts: Parts) {
  const { window, shards, count, report, log } = parts;
  const perShard = { maxIds: Math.ceil(window.maxIds / shards), ttlMs: window.ttlMs };
  let warned = false;

  const fail = (what: string, error: unknown) => {
    count('sharedFailures');
    const message = `relay: the dedup object (OutboxDedup) failed on ${what}: ${String((error as Error)?.message ?? error)}; deduplicating per instance meanwhile`;
    if (warned) return log(message);
    warned = true;
    report(new Error(message));
    if (parts.warn) console.warn(`[outbox relay] ${message}`);
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

  return async function claim(namespace: DedupNamespace, keys: readonly string[], timing: ClaimTiming): Promise<SharedClaim> {
    const groups = new Map<number, string[]>();
    for (const k of keys) {
      const s = shards === 1 ? 0 : shardOf(k, shards);
      let g = groups.get(s);
      if (!g) groups.set(s, (g = []));
      g.push(k);
    }
    const answers = await Promise.all(
      [...groups].map(async ([shard, group]) => {
        let stub: ReturnType<DedupNamespace['get']> | undefined;
        try {
          stub = namespace.get(namespace.idFromName(shards === 1 ? 'outbox-dedup' : `outbox-dedup/${shard}/${shards}`));
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
  };
}

/**
 * `OutboxDedup`: the Durable Object that holds the relay's dedup window for every instance of a relay on
 * Cloudflare (export it from the Worker, bind it, pass the binding as createRelay({ dedup })). It answers three
 * calls, all JSON over the stub's fetch:
 *
 * - `claim { keys, leaseMs, waitMs, maxIds, ttlMs }` → `{ token, status, evicted }`: one character per key —
 *   `s` seen (taken within the window: acknowledge, do not forward), `c` claimed (held for this caller until it
 *   settles or `leaseMs` ends), `b` busy (another caller holds it). A busy key is waited for, up to `waitMs`: when
 *   its holder settles it becomes `s` (taken) or `c` (released, now ours).
 * - `settle { token, done, release, maxIds, ttlMs }` → `{ evicted }`: `done` keys were taken (remembered for
 *   `ttlMs`, at most `maxIds`, the oldest forgotten first and counted in `evicted`); `release` keys were not (the
 *   hold ends, so a resend is forwarded).
 * - `seen { keys, waitMs, maxIds, ttlMs }` → `{ status }`: one character per key — `s` taken within the window,
 *   `n` not (yet). A key someone holds is waited for, up to `waitMs`, as a claim waits; still held after the wait,
 *   it is `n`. Reserves nothing (the relay's receipts query: which of a page's records were taken).
 *
 * State: the window and the holds live in memory (one isolate runs the object, one event at a time, and every
 * decision below is made without an await, so a claim is atomic). Taken keys are also journaled to the object's
 * SQLite storage, one row per settled batch, and read back when the object starts again (after idle eviction or a
 * deploy), so the window survives the object leaving memory; holds are not journaled: they last one forwarding
 * (`leaseMs`), and a restart ends them as a lease would.
 */

/** The part of `ctx.storage.sql` (SQLite-backed Durable Objects) the object uses. */
interface Sql {
  exec(query: string, ...bindings: (string | number | null)[]): { toArray(): Record<string, unknown>[] };
}

/** The part of a DurableObjectState the object uses. */
export interface DedupObjectState {
  storage: { sql: Sql };
}

export interface ClaimRequest {
  keys: string[];
  leaseMs: number;
  waitMs: number;
  maxIds: number;
  ttlMs: number;
}
export interface ClaimAnswer {
  token: string;
  /** One of `s` (seen), `c` (claimed), `b` (busy) per key, in order. */
  status: string;
  evicted: number;
}
export interface SettleRequest {
  token: string;
  done: string[];
  release: string[];
  maxIds: number;
  ttlMs: number;
}
export interface SettleAnswer {
  evicted: number;
}
export interface SeenRequest {
  keys: string[];
  waitMs: number;
  maxIds: number;
  ttlMs: number;
}
export interface SeenAnswer {
  /** One of `s` (taken) or `n` (not taken) per key, in order. */
  status: string;
}

/** Largest wait and lease the object accepts (ms): a forwarding takes at most the relay's timeouts. */
const MAX_MS = 600_000;
/** Most keys in one call (a relay request holds at most 5000 spans by default; limits.maxSpans may raise it). */
const MAX_KEYS = 100_000;
/** Most keys held at once (all instances' forwardings in flight); beyond it keys are answered busy until holds end. */
const MAX_HELD = 200_000;

const isKeys = (v: unknown): v is string[] => Array.isArray(v) && v.length <= MAX_KEYS && v.every((k) => typeof k === 'string' && k.length <= 2048);
const isMs = (v: unknown, max = MAX_MS): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

/** The object's behaviour, state in this closure; `fetch` answers the relay's calls. */
function createDedupObject(sql: Sql, now: () => number) {
  /** Taken keys → when taken and the journal row holding them; insertion order is age order. */
  const taken = new Map<string, { at: number; row: number }>();
  /** Keys someone is forwarding now → who (a claim's token) and until when. */
  const held = new Map<string, { token: string; until: number }>();
  /** Woken whenever holds end (a settle), so waiting claims look again. */
  const waiters = new Set<() => void>();
  let nextRow = 1;
  /** The lowest journal row that may still exist: the trim below runs only when the window moved past it. */
  let floor = 1;
  /** Read back from the journal: ids beyond maxIds there were counted as evicted before the restart. */
  let reloaded = false;

  sql.exec('CREATE TABLE IF NOT EXISTS taken_batches (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, keys TEXT NOT NULL)');
  for (const r of sql.exec('SELECT id, at, keys FROM taken_batches ORDER BY id').toArray()) {
    const row = Number(r.id);
    if (nextRow === 1) floor = row;
    reloaded = true;
    const at = Number(r.at);
    let keys: unknown;
    try {
      keys = JSON.parse(String(r.keys));
    } catch {
      keys = [];
    }
    if (Array.isArray(keys)) {
      for (const k of keys) {
        if (typeof k !== 'string') continue;
        taken.delete(k);
        taken.set(k, { at, row });
      }
    }
    nextRow = row + 1;
  }

  /** Forgets what is older than ttlMs and beyond maxIds (oldest first, counted); trims the journal to match. */
  function prune(maxIds: number, ttlMs: number): number {
    const t = now();
    for (const [k, v] of taken) {
      if (t - v.at < ttlMs) break;
      taken.delete(k);
    }
    let evicted = 0;
    while (taken.size > maxIds) {
      taken.delete(taken.keys().next().value as string);
      evicted++;
    }
    if (reloaded) {
      reloaded = false;
      evicted = 0;
    }
    // Rows older than the oldest key still remembered hold nothing the window needs.
    const oldest = taken.values().next().value?.row ?? nextRow;
    if (oldest > floor) {
      sql.exec('DELETE FROM taken_batches WHERE id < ?', oldest);
      floor = oldest;
    }
    return evicted;
  }

  const isTaken = (key: string, ttlMs: number) => {
    const v = taken.get(key);
    return v !== undefined && now() - v.at < ttlMs;
  };

  /** Classifies each key not yet decided (`?`), holding the free ones for `token`. No await: one atomic step. */
  function decide(keys: string[], status: string[], token: string, c: ClaimRequest): void {
    const t = now();
    for (let i = 0; i < keys.length; i++) {
      if (status[i] !== '?' && status[i] !== 'b') continue;
      const key = keys[i]!;
      if (isTaken(key, c.ttlMs)) status[i] = 's';
      else {
        const h = held.get(key);
        if (h !== undefined && h.until > t && h.token !== token) status[i] = 'b';
        else if (h === undefined && held.size >= MAX_HELD) status[i] = 'b'; // overload: the page retries later
        else {
          held.set(key, { token, until: t + c.leaseMs });
          status[i] = 'c';
        }
      }
    }
  }

  async function claim(c: ClaimRequest): Promise<ClaimAnswer> {
    const token = crypto.randomUUID();
    const evicted = prune(c.maxIds, c.ttlMs);
    for (const [k, h] of held) if (h.until <= now()) held.delete(k);
    const status: string[] = c.keys.map(() => '?');
    // A window of 0 ids or 0 ms is dedup turned off: nothing is remembered, so nothing is held either.
    if (c.maxIds === 0 || c.ttlMs === 0) return { token, status: 'c'.repeat(c.keys.length), evicted };
    decide(c.keys, status, token, c);
    const deadline = now() + c.waitMs;
    while (status.includes('b') && now() < deadline) {
      await nap(c.keys, status, deadline);
      decide(c.keys, status, token, c);
    }
    return { token, status: status.join(''), evicted };
  }

  /** Waits until a holder settles, the first busy (`b`) key's lease ends, or the deadline, whichever comes first. */
  function nap(keys: string[], status: string[], deadline: number): Promise<void> {
    let soonest = deadline;
    for (let i = 0; i < keys.length; i++) if (status[i] === 'b') soonest = Math.min(soonest, held.get(keys[i]!)?.until ?? now());
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(1, soonest - now()));
      function done() {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      }
      waiters.add(done);
    });
  }

  /** Which keys were taken, waiting (up to waitMs) for the ones someone holds; holds nothing, changes nothing. */
  async function seen(c: SeenRequest): Promise<SeenAnswer> {
    const off = c.maxIds === 0 || c.ttlMs === 0;
    const look = (): string[] => {
      const t = now();
      return c.keys.map((k) => (off ? 'n' : isTaken(k, c.ttlMs) ? 's' : (held.get(k)?.until ?? 0) > t ? 'b' : 'n'));
    };
    let status = look();
    const deadline = now() + c.waitMs;
    while (status.includes('b') && now() < deadline) {
      await nap(c.keys, status, deadline);
      status = look();
    }
    return { status: status.join('').replace(/b/g, 'n') };
  }

  function settle(s: SettleRequest): SettleAnswer {
    const t = now();
    for (const k of s.done) held.delete(k); // taken: whoever held it, the hold is over
    for (const k of s.release) if (held.get(k)?.token === s.token) held.delete(k);
    if (s.maxIds > 0 && s.ttlMs > 0) {
      // One journal row per ≤ 1 MB of keys (a SQLite row holds at most 2 MB).
      for (let i = 0; i < s.done.length; ) {
        const batch: string[] = [];
        for (let chars = 0; i < s.done.length && (batch.length === 0 || chars + s.done[i]!.length < 1_000_000); i++) {
          batch.push(s.done[i]!);
          chars += s.done[i]!.length + 3;
        }
        const row = nextRow++;
        sql.exec('INSERT INTO taken_batches (id, at, keys) VALUES (?, ?, ?)', row, t, JSON.stringify(batch));
        for (const k of batch) {
          taken.delete(k); // re-inserted at the end: remembered afresh
          taken.set(k, { at: t, row });
        }
      }
    }
    const evicted = prune(s.maxIds, s.ttlMs);
    for (const wake of [...waiters]) wake();
    return { evicted };
  }

  return async function fetch(request: Request): Promise<Response> {
    const op = new URL(request.url).pathname;
    let body: Record<string, unknown>;
    try {
      body = (await request.json()) as Record<string, unknown>;
    } catch {
      return json(400, { message: 'the body is not JSON' });
    }
    if (body === null || typeof body !== 'object') return json(400, { message: 'the body must be an object' });
    if (!isMs(body.maxIds, Number.MAX_SAFE_INTEGER) || !isMs(body.ttlMs, Number.MAX_SAFE_INTEGER)) {
      return json(400, { message: 'maxIds and ttlMs must be integers ≥ 0' });
    }
    if (op === '/claim') {
      if (!isKeys(body.keys) || !isMs(body.leaseMs) || !isMs(body.waitMs)) return json(400, { message: `claim: keys (≤ ${MAX_KEYS} strings), leaseMs and waitMs (0–${MAX_MS}) expected` });
      return json(200, await claim(body as unknown as ClaimRequest));
    }
    if (op === '/settle') {
      if (typeof body.token !== 'string' || !isKeys(body.done) || !isKeys(body.release)) return json(400, { message: 'settle: token, done and release expected' });
      return json(200, settle(body as unknown as SettleRequest));
    }
    if (op === '/seen') {
      if (!isKeys(body.keys) || !isMs(body.waitMs)) return json(400, { message: `seen: keys (≤ ${MAX_KEYS} strings) and waitMs (0–${MAX_MS}) expected` });
      return json(200, await seen(body as unknown as SeenRequest));
    }
    return json(404, { message: 'OutboxDedup serves POST /claim, /settle and /seen' });
  };
}

/**
 * The Durable Object class holding the relay's shared dedup window. Export it from the Worker
 * (`export { OutboxDedup } from 'outbox/relay'`), declare it as a SQLite class in wrangler's `migrations`
 * (`new_sqlite_classes`), bind it (`durable_objects.bindings`), and pass the binding to createRelay({ dedup }).
 */
export class OutboxDedup {
  readonly #handle: (request: Request) => Promise<Response>;
  constructor(state: DedupObjectState, _env?: unknown) {
    this.#handle = createDedupObject(state.storage.sql, Date.now);
  }
  fetch(request: Request): Promise<Response> {
    return this.#handle(request);
  }
}

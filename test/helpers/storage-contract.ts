/**
 * The storage contract, shared by every Storage implementation and every runtime: plain async cases that throw on
 * failure, with no test framework inside, so the same cases run under vitest in Node (memory store, fake-indexeddb)
 * and in a real Chromium page (real IndexedDB, real Web Locks) through a small bundle.
 */
import type { Storage, StoredEvent } from '../../src/core/types';

/** One backing store (a database, a Map) seen by successive runs (pages, processes). */
export interface ContractSubject {
  /** A new run over the same backing store; earlier runs the case did not close are still alive. */
  open(): Promise<Storage>;
  /** The clock the storage reads (epoch ms). */
  now(): number;
  /** Moves that clock forward, when the subject has its own. */
  advance?(ms: number): void;
  /** What the implementation promises beyond the base contract. */
  features: {
    /** Runs own what they append: a live run's events are never recovered by another run. */
    ownership?: boolean;
    /** markSent() withholds events from recovery for `graceMs`. */
    markSent?: { graceMs: number };
    /** recover(max) adopts at most max events. */
    limit?: boolean;
    /** Counts readwrite transactions (`transactions`). */
    transactions?: boolean;
  };
}

export interface ContractCase {
  name: string;
  /** Which feature the case needs; it is skipped (and says so) where the subject lacks it. */
  needs?: keyof ContractSubject['features'];
  run(subject: ContractSubject): Promise<void>;
}

let counter = 0;
/** A sealed event with a unique id; `ts` in epoch ms. */
export function ev(ts: number, type = 'span-create'): StoredEvent {
  const id = `ev-${++counter}-${ts}`;
  return { id, type, ts, line: JSON.stringify({ id, type, timestamp: new Date(ts).toISOString(), body: { n: counter, text: 'é ✓' } }) };
}

function eq(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e.slice(0, 400)}, got ${a.slice(0, 400)}`);
}

function ok(cond: unknown, what: string): void {
  if (!cond) throw new Error(what);
}

const ids = (events: StoredEvent[]) => events.map((e) => e.id);
const T0 = 1_750_000_000_000;

export const storageContract: ContractCase[] = [
  {
    name: 'recover() returns what an earlier run appended, oldest first, every field intact',
    async run(s) {
      const a = await s.open();
      const late = ev(T0 + 30);
      const early = [ev(T0 + 10), ev(T0 + 20)];
      await a.append([late]);
      await a.append(early);
      await a.close();
      const b = await s.open();
      eq(await b.recover(), [...early, late], 'recovered events');
      await b.close();
    },
  },
  {
    name: 'remove() forgets exactly the given ids, spread over several appends',
    async run(s) {
      const a = await s.open();
      const e = [ev(T0 + 1), ev(T0 + 2), ev(T0 + 3), ev(T0 + 4), ev(T0 + 5)];
      await a.append(e.slice(0, 2));
      await a.append(e.slice(2, 4));
      await a.append(e.slice(4));
      await a.remove([e[1]!.id, e[2]!.id, e[4]!.id]);
      await a.close();
      const b = await s.open();
      eq(ids(await b.recover()), [e[0]!.id, e[3]!.id], 'left after remove');
      await b.close();
    },
  },
  {
    name: 'removing a whole append, unknown ids or nothing is fine; an empty append stores nothing',
    async run(s) {
      const a = await s.open();
      const gone = [ev(T0 + 1), ev(T0 + 2)];
      const kept = ev(T0 + 3);
      await a.append([]);
      await a.append(gone);
      await a.append([kept]);
      await a.remove(ids(gone));
      await a.remove(['no-such-id']);
      await a.remove([]);
      await a.markSent?.(['no-such-id'], T0);
      await a.close();
      const b = await s.open();
      eq(ids(await b.recover()), [kept.id], 'left');
      await b.close();
    },
  },
  {
    name: 'a remove issued in the same task as the append wins',
    async run(s) {
      const a = await s.open();
      const e = [ev(T0 + 1), ev(T0 + 2)];
      const appended = a.append(e);
      const removed = a.remove([e[0]!.id]);
      await Promise.all([appended, removed]);
      await a.close();
      const b = await s.open();
      eq(ids(await b.recover()), [e[1]!.id], 'left');
      await b.close();
    },
  },
  {
    name: 'a burst of 10 000 events in one append is stored whole (in a handful of transactions) and recovered',
    async run(s) {
      const a = await s.open();
      const before = (a as { transactions?: number }).transactions ?? 0;
      const burst = Array.from({ length: 10_000 }, (_, i) => ev(T0 + i));
      await a.append(burst);
      if (s.features.transactions) {
        const used = (a as unknown as { transactions: number }).transactions - before;
        ok(used >= 1 && used <= 2, `10 000 events took ${used} write transactions (want 1–2)`);
      }
      await a.close();
      const b = await s.open();
      const back = await b.recover();
      eq(back.length, 10_000, 'recovered count');
      eq(back[9_999], burst[9_999], 'last event');
      eq(new Set(ids(back)).size, 10_000, 'unique ids');
      await b.close();
    },
  },
  {
    name: 'events recovered by a run are removable by that run, and then gone for good',
    async run(s) {
      const a = await s.open();
      const e = [ev(T0 + 1), ev(T0 + 2), ev(T0 + 3)];
      await a.append(e.slice(0, 2));
      await a.append(e.slice(2));
      await a.close();
      const b = await s.open();
      const back = await b.recover();
      eq(ids(back), ids(e), 'recovered');
      await b.remove([e[0]!.id, e[2]!.id]);
      await b.close();
      const c = await s.open();
      eq(ids(await c.recover()), [e[1]!.id], 'left after the recovering run removed two');
      await c.remove([e[1]!.id]);
      await c.close();
      const d = await s.open();
      eq(await d.recover(), [], 'left at the end');
      await d.close();
    },
  },
  {
    name: "a live run's events are never recovered by another run; once it closes, exactly one run gets them",
    needs: 'ownership',
    async run(s) {
      const a = await s.open();
      const e = [ev(T0 + 1), ev(T0 + 2)];
      await a.append(e);
      const b = await s.open();
      eq(await b.recover(), [], 'recovered while the owner lives');
      await a.close();
      const c = await s.open();
      const [fromB, fromC] = await Promise.all([b.recover(), c.recover()]);
      eq([...ids(fromB), ...ids(fromC)].sort(), ids(e).sort(), 'recovered once between two live runs');
      const winner = fromB.length > 0 ? b : c;
      const loser = winner === b ? c : b;
      eq(await loser.recover(), [], 'recovered again while the adopter lives');
      await winner.close();
      const d = await s.open();
      eq(ids(await d.recover()), ids(e), 'recovered after the adopter closed too');
      await Promise.all([loser.close(), d.close()]);
    },
  },
  {
    name: 'markSent() events are withheld from recovery for the grace period, then recovered',
    needs: 'markSent',
    async run(s) {
      const grace = s.features.markSent!.graceMs;
      const a = await s.open();
      const e = [ev(T0 + 1), ev(T0 + 2), ev(T0 + 3)];
      await a.append(e);
      await a.markSent!([e[0]!.id, e[2]!.id], s.now());
      await a.close();
      const b = await s.open();
      eq(ids(await b.recover()), [e[1]!.id], 'recovered within the grace period');
      s.advance!(grace + 1);
      eq(ids(await b.recover()), [e[0]!.id, e[2]!.id], 'recovered after the grace period');
      await b.close();
    },
  },
  {
    name: 'recover(max) adopts at most max events, oldest first; the rest stays for the next call',
    needs: 'limit',
    async run(s) {
      const a = await s.open();
      const e = [ev(T0 + 1), ev(T0 + 2), ev(T0 + 3), ev(T0 + 4), ev(T0 + 5)];
      await a.append(e.slice(0, 3));
      await a.append(e.slice(3));
      await a.close();
      const b = await s.open();
      eq(ids(await b.recover(2)), ids(e.slice(0, 2)), 'first call');
      eq(ids(await b.recover(2)), ids(e.slice(2, 4)), 'second call');
      eq(ids(await b.recover()), ids(e.slice(4)), 'third call');
      await b.close();
    },
  },
];

/** Runs every case on fresh subjects; returns one line per case (`ok`, `skipped: …` or the error). */
export async function runStorageContract(makeSubject: () => Promise<ContractSubject>): Promise<{ name: string; result: string }[]> {
  const out: { name: string; result: string }[] = [];
  for (const c of storageContract) {
    const subject = await makeSubject();
    if (c.needs && !subject.features[c.needs]) {
      out.push({ name: c.name, result: `skipped: needs ${c.needs}` });
      continue;
    }
    try {
      await c.run(subject);
      out.push({ name: c.name, result: 'ok' });
    } catch (error) {
      out.push({ name: c.name, result: error instanceof Error ? error.stack ?? error.message : String(error) });
    }
  }
  return out;
}

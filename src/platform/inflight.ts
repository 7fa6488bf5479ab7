/**
 * Sends in flight, noted where a crashed renderer leaves them: a page that no service worker controls (a worker
 * sees the answers for its pages: storage/acks.ts) writes, synchronously and before the request starts, the ids it
 * carries and when, to localStorage, and removes the note as soon as the send has ended. A renderer crash gives no
 * `pagehide` and so no sent-mark; without this note the next load would resend at once records that may be
 * arriving right now. A recovering load takes a noted id as sent at the note's time (IndexedDbStorageOptions
 * .inflightNotes), so it resends it only after the sent-grace period, like a record marked at pagehide. A send the page
 * saw fail leaves no note: its records are queued again, and a later load resends them at once.
 *
 * Unlike the unload path's sent-notes (storage/sent-notes.ts: marks kept until their records go), a note here lives
 * only while its request is in flight. One key per request, `outbox:inflight:<random>`, value `[at, ...ids]` (JSON). Any reader removes notes
 * older than the grace (they decide nothing any more) and malformed ones.
 */
const PREFIX = 'outbox:inflight:';

/**
 * Notes `ids` as in a request starting now; returns the call that removes the note (the send has ended). Without
 * localStorage (or over its quota) nothing is noted: a crash then costs the resend at once it cost before.
 */
export function noteSending(ids: readonly string[], at = Date.now()): () => void {
  try {
    const ls = localStorage;
    const key = PREFIX + Math.random(); // unique enough: a collision costs one note
    ls.setItem(key, JSON.stringify([at, ...ids]));
    return () => ls.removeItem(key);
  } catch {
    return () => undefined;
  }
}

/**
 * Every noted id younger than `maxAgeMs` (any document's: the caller asks only about records of gone owners), with
 * when its request started (epoch ms); older and malformed notes are removed.
 */
export function inflightNotes(maxAgeMs: number, now = Date.now()): Map<string, number> {
  const out = new Map<string, number>();
  try {
    const ls = localStorage;
    for (const key of Object.keys(ls)) {
      if (!key.startsWith(PREFIX)) continue;
      try {
        const [at, ...ids] = JSON.parse(ls.getItem(key)!) as [number, ...string[]]; // not an array: throws, removed
        if (now - at < maxAgeMs) for (const id of ids) out.set(id, at);
        else ls.removeItem(key);
      } catch {
        ls.removeItem(key);
      }
    }
  } catch {
    /* no localStorage: nothing noted */
  }
  return out;
}

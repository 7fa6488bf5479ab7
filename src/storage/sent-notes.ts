/**
 * Sent-notes: the unload path's marks ("these records went out at T in a request whose answer may never be seen"),
 * written synchronously to localStorage instead of as an IndexedDB transaction that rewrites the records' segment.
 * That transaction, begun as the page leaves, did not always commit before the document was gone (Firefox: the 222
 * records of one keepalive unmarked in 2 of 8 and 1 of 8 probes; any browser: always, when another tab's write
 * holds the store), and the next load resent at once what the keepalive had delivered. A localStorage write is
 * synchronous, as the pagehide spill's is (platform/spill.ts). One key per client, `outbox:sent:<owner>` →
 * `[[id, epoch ms], …]`, rewritten from the store's own record of what is marked, so it holds at most the
 * records that client holds; it goes when they do, or when a recovering client has adopted that client's records.
 * Every failure here costs a duplicate (the IndexedDB mark is written instead), never a record.
 */
export const SENT_PREFIX = 'outbox:sent:';
/**
 * A mark's time when the record's answer was seen and its removal is being written: the note says so at once, so a
 * document gone before that removal commits leaves a record the next load drops instead of resending what arrived.
 */
export const ANSWERED = 0;

/** One client's note as read back: its owner, and [record id, when it was sent (epoch ms)] pairs. */
export type SentNote = [owner: string, marks: [string, number][]];

/** Where the store keeps its sent-marks outside IndexedDB (injected: the page's durable queue passes these). */
export interface SentNotes {
  /** Writes `owner`'s note (replacing it): id → epoch ms. False when localStorage is unusable or full. */
  write(owner: string, marks: Map<string, number>): boolean;
  /** Every client's note (none when localStorage is unusable). */
  read(): SentNote[];
  /** Removes `owner`'s note. */
  drop(owner: string): void;
}

/** A note's marks; none when it is not a JSON array of [id, epoch ms] (it is then dropped like any stale note). */
function marksOf(text: string): [string, number][] {
  try {
    // (an id that is not a string matches no record)
    return (JSON.parse(text) as [string, unknown][]).filter((m): m is [string, number] => typeof m[1] === 'number');
  } catch {
    return [];
  }
}

// `localStorage` is used bare: where it is missing (a ReferenceError) or refused (a sandboxed frame or disabled
// storage throws on access) the try around each use catches it.
/** The sent-notes in this origin's localStorage: `outbox:sent:<owner>` → `[[id, epoch ms], …]`. */
export const sentNotes: SentNotes = {
  write(owner, marks) {
    try {
      localStorage.setItem(SENT_PREFIX + owner, JSON.stringify([...marks]));
      return true;
    } catch {
      return false; // full, or unusable: the caller writes the marks to IndexedDB instead
    }
  },
  read() {
    const out: SentNote[] = [];
    try {
      for (let i = 0; i < localStorage.length; i++) {
        const key = localStorage.key(i)!;
        if (key.startsWith(SENT_PREFIX)) out.push([key.slice(SENT_PREFIX.length), marksOf(localStorage.getItem(key)!)]);
      }
    } catch {
      /* unusable: no notes, or those read before it failed */
    }
    return out;
  },
  drop(owner) {
    try {
      localStorage.removeItem(SENT_PREFIX + owner);
    } catch {
      /* nothing to remove */
    }
  },
};

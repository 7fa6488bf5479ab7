// SQLite storage (better-sqlite3 v12): ingested events, deduplicated by event id; observations and scores in
// the same database (span-store.mjs, score-store.mjs).
import Database from 'better-sqlite3';
import { openSpanStore } from './span-store.mjs';
import { openScoreStore } from './score-store.mjs';

/**
 * @typedef {{ id: string, type: string, timestamp: string, body: unknown }} IncomingEvent
 * @typedef {{ id: string, type: string, timestamp: string, body: unknown, batchId: string | null,
 *   receivedAt: number, seq: number }} StoredEvent
 */

/**
 * Opens (or creates) the event store. File databases use WAL journaling.
 * @param {string} dbPath a file path, or ':memory:'
 */
export function openStore(dbPath = ':memory:') {
  const db = new Database(dbPath);
  if (dbPath !== ':memory:' && dbPath !== '') {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  }
  db.exec(`CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    body TEXT NOT NULL,
    batch_id TEXT,
    received_at INTEGER NOT NULL
  )`);

  const insertStmt = db.prepare(
    'INSERT OR IGNORE INTO events (id, type, timestamp, body, batch_id, received_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const selectStmt = db.prepare(
    'SELECT seq, id, type, timestamp, body, batch_id, received_at FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
  );
  const countStmt = db.prepare('SELECT COUNT(*) FROM events').pluck();
  const deleteStmt = db.prepare('DELETE FROM events');
  const resetSeqStmt = db.prepare("DELETE FROM sqlite_sequence WHERE name = 'events'");

  /** @type {(events: IncomingEvent[], batchId: string | null, receivedAt: number) => boolean[]} */
  const insertMany = db.transaction(
    (/** @type {IncomingEvent[]} */ events, /** @type {string | null} */ batchId, /** @type {number} */ receivedAt) =>
      events.map(
        (e) => insertStmt.run(e.id, e.type, e.timestamp, JSON.stringify(e.body), batchId, receivedAt).changes > 0,
      ),
  );
  const clearAll = db.transaction(() => {
    deleteStmt.run();
    resetSeqStmt.run();
  });

  let count = /** @type {number} */ (countStmt.get());
  let open = true;
  const spans = openSpanStore(db);
  const scores = openScoreStore(db);

  return {
    /** Observations (spans) and the traces read off them. */
    spans,
    /** Scores from score-create events. */
    scores,
    /**
     * Inserts a batch in one transaction; returns, per event, true if it was new and false if its id was
     * already stored (or earlier in the same batch).
     * @param {IncomingEvent[]} events
     * @param {string | null} batchId
     * @param {number} receivedAt ms epoch
     * @returns {boolean[]}
     */
    insertBatch(events, batchId, receivedAt) {
      if (events.length === 0) return [];
      const inserted = insertMany(events, batchId, receivedAt);
      for (const isNew of inserted) if (isNew) count += 1;
      return inserted;
    },
    /**
     * Stored events in arrival order.
     * @param {{ after?: number, limit?: number }} [opts] `after`: only events with a larger seq
     * @returns {StoredEvent[]}
     */
    events({ after = 0, limit = -1 } = {}) {
      return selectStmt.all(after, limit).map((/** @type {unknown} */ row) => {
        const r = /** @type {any} */ (row);
        return {
          id: r.id,
          type: r.type,
          timestamp: r.timestamp,
          body: JSON.parse(r.body),
          batchId: r.batch_id,
          receivedAt: r.received_at,
          seq: r.seq,
        };
      });
    },
    /** Number of stored events. @returns {number} */
    count() {
      return count;
    },
    /** Deletes every event, observation and score, and restarts the arrival sequences. */
    clear() {
      clearAll();
      spans.clear();
      scores.clear();
      count = 0;
    },
    /** Closes the database; idempotent. */
    close() {
      if (!open) return;
      open = false;
      db.close();
    },
  };
}

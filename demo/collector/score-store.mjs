// SQLite storage of scores (from score-create events), linked to trace, observation or session ids.

/**
 * @typedef {{ id: string, name: string, value: number | string, dataType: string | null, traceId: string | null,
 *   observationId: string | null, sessionId: string | null, datasetRunId: string | null, comment: string | null,
 *   metadata: unknown, eventId: string, timestamp: string, seq: number, receivedAt: number }} StoredScore
 */

/**
 * Creates the scores table in `db`. A score's id is its body's `id`, else its event's id; a later score with the
 * same id replaces the earlier one (Langfuse updates a score by id).
 * @param {import('better-sqlite3').Database} db
 */
export function openScoreStore(db) {
  db.exec(`CREATE TABLE IF NOT EXISTS scores (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    trace_id TEXT,
    observation_id TEXT,
    session_id TEXT,
    data TEXT NOT NULL,
    received_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS scores_trace ON scores (trace_id)`);
  const upsert = db.prepare(`INSERT INTO scores (id, trace_id, observation_id, session_id, data, received_at)
      VALUES (@id, @traceId, @observationId, @sessionId, @data, @receivedAt)
    ON CONFLICT (id) DO UPDATE SET trace_id = excluded.trace_id, observation_id = excluded.observation_id,
      session_id = excluded.session_id, data = excluded.data, received_at = excluded.received_at`);
  const countStmt = db.prepare('SELECT COUNT(*) FROM scores').pluck();

  /** @type {(events: { id: string, timestamp: string, body: any }[], receivedAt: number) => void} */
  const insertMany = db.transaction((/** @type {{ id: string, timestamp: string, body: any }[]} */ events, /** @type {number} */ receivedAt) => {
    for (const e of events) {
      const b = e.body;
      /** @type {Omit<StoredScore, 'seq' | 'receivedAt'>} */
      const score = {
        id: typeof b.id === 'string' && b.id ? b.id : e.id,
        name: b.name,
        value: b.value,
        dataType: b.dataType ?? null,
        traceId: b.traceId ?? null,
        observationId: b.observationId ?? null,
        sessionId: b.sessionId ?? null,
        datasetRunId: b.datasetRunId ?? null,
        comment: b.comment ?? null,
        metadata: b.metadata ?? null,
        eventId: e.id,
        timestamp: e.timestamp,
      };
      upsert.run({ ...score, data: JSON.stringify(score), receivedAt });
    }
  });

  return {
    /** Stores the scores of accepted score-create events, in one transaction. @param {{ id: string, timestamp: string, body: any }[]} events @param {number} receivedAt */
    insertScores(events, receivedAt) {
      if (events.length > 0) insertMany(events, receivedAt);
    },
    /**
     * Stored scores in arrival order, optionally of one trace.
     * @param {{ traceId?: string }} [query]
     * @returns {StoredScore[]}
     */
    scores({ traceId } = {}) {
      const rows = traceId === undefined
        ? db.prepare('SELECT * FROM scores ORDER BY seq').all()
        : db.prepare('SELECT * FROM scores WHERE trace_id = ? ORDER BY seq').all(traceId);
      return rows.map((/** @type {any} */ r) => ({ ...JSON.parse(r.data), seq: r.seq, receivedAt: r.received_at }));
    },
    /** @returns {number} */
    count() {
      return /** @type {number} */ (countStmt.get());
    },
    /** Deletes every score. */
    clear() {
      db.exec("DELETE FROM scores; DELETE FROM sqlite_sequence WHERE name = 'scores'");
    },
  };
}

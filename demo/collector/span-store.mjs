// SQLite storage of observations (one row per span id, with how often that id arrived) and traces read off them.

/**
 * @typedef {import('./otlp-map.mjs').Observation} Observation
 * @typedef {Observation & { arrivals: number, conflicts: number, raw: unknown, seq: number, receivedAt: number }} StoredObservation
 * @typedef {{ traceId?: string, type?: string, name?: string, after?: number, limit?: number }} ObservationQuery
 */

/**
 * Creates the observations table in `db` and returns its operations. Langfuse keeps every resent span as a
 * new row; here a span id is stored once (the first arrival) and every later arrival adds 1 to `arrivals`, and
 * to `conflicts` when its JSON differs from the stored one (a changed resend, which Langfuse would merge at an
 * unknown time).
 * @param {import('better-sqlite3').Database} db
 */
export function openSpanStore(db) {
  db.exec(`CREATE TABLE IF NOT EXISTS observations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    span_id TEXT NOT NULL UNIQUE,
    trace_id TEXT NOT NULL,
    parent_span_id TEXT,
    type TEXT NOT NULL,
    name TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL,
    data TEXT NOT NULL,
    raw TEXT NOT NULL,
    arrivals INTEGER NOT NULL DEFAULT 1,
    conflicts INTEGER NOT NULL DEFAULT 0,
    received_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS observations_trace ON observations (trace_id, seq)`);

  const upsert = db.prepare(`INSERT INTO observations
      (span_id, trace_id, parent_span_id, type, name, start_ms, end_ms, data, raw, received_at)
      VALUES (@id, @traceId, @parentObservationId, @type, @name, @startTime, @endTime, @data, @raw, @receivedAt)
    ON CONFLICT (span_id) DO UPDATE SET arrivals = arrivals + 1, conflicts = conflicts + (raw IS NOT excluded.raw)
    RETURNING arrivals`).pluck();
  const countsStmt = db.prepare(`SELECT COUNT(*) AS observations, COALESCE(SUM(arrivals - 1), 0) AS duplicates,
      COALESCE(SUM(conflicts), 0) AS conflicts, COUNT(DISTINCT trace_id) AS traces FROM observations`);
  const arrivalsStmt = db.prepare('SELECT span_id, arrivals FROM observations ORDER BY seq').raw();
  const newestTracesStmt = db.prepare(
    'SELECT trace_id FROM observations GROUP BY trace_id ORDER BY MIN(start_ms) DESC, MAX(seq) DESC LIMIT ?',
  ).pluck();
  const byTraceStmt = db.prepare('SELECT * FROM observations WHERE trace_id = ? ORDER BY seq');

  /** @type {(items: { observation: Observation, raw: string }[], receivedAt: number) => { stored: number, duplicates: number }} */
  const insertMany = db.transaction((/** @type {{ observation: Observation, raw: string }[]} */ items, /** @type {number} */ receivedAt) => {
    let stored = 0;
    for (const { observation, raw } of items) {
      const arrivals = upsert.get({ ...observation, data: JSON.stringify(observation), raw, receivedAt });
      if (arrivals === 1) stored += 1;
    }
    return { stored, duplicates: items.length - stored };
  });

  return {
    /**
     * Stores spans in one transaction; a span id already stored (or earlier in the batch) counts as a duplicate.
     * @param {{ observation: Observation, raw: string }[]} items `raw`: the span's JSON as received
     * @param {number} receivedAt ms epoch
     */
    insertSpans(items, receivedAt) {
      return items.length === 0 ? { stored: 0, duplicates: 0 } : insertMany(items, receivedAt);
    },
    /**
     * Stored observations in arrival order, optionally filtered.
     * @param {ObservationQuery} [query] `after`: only rows with a larger seq; `limit` default all
     * @returns {StoredObservation[]}
     */
    observations({ traceId, type, name, after = 0, limit = -1 } = {}) {
      const where = ['seq > @after'];
      if (traceId !== undefined) where.push('trace_id = @traceId');
      if (type !== undefined) where.push('type = @type');
      if (name !== undefined) where.push('name = @name');
      const rows = db
        .prepare(`SELECT * FROM observations WHERE ${where.join(' AND ')} ORDER BY seq LIMIT @limit`)
        .all({ after, limit, traceId, type, name });
      return rows.map(fromRow);
    },
    /** How many times each span id arrived, in first-arrival order. @returns {Record<string, number>} */
    spanArrivals() {
      /** @type {Record<string, number>} */
      const out = {};
      for (const [id, n] of /** @type {[string, number][]} */ (arrivalsStmt.all())) out[id] = n;
      return out;
    },
    /**
     * Traces read off their observations, newest (latest first start) first.
     * @param {{ limit?: number }} [query] default 1000
     */
    traces({ limit = 1000 } = {}) {
      return /** @type {string[]} */ (newestTracesStmt.all(limit)).map((id) => {
        const observations = byTraceStmt.all(id).map(fromRow);
        return { trace: aggregateTrace(id, observations), observations };
      });
    },
    /** @returns {{ observationsStored: number, spanDuplicates: number, spanConflicts: number, tracesStored: number }} */
    counts() {
      const r = /** @type {any} */ (countsStmt.get());
      return { observationsStored: r.observations, spanDuplicates: r.duplicates, spanConflicts: r.conflicts, tracesStored: r.traces };
    },
    /** Deletes every observation. */
    clear() {
      db.exec("DELETE FROM observations; DELETE FROM sqlite_sequence WHERE name = 'observations'");
    },
  };
}

/** @param {any} r a row of the observations table @returns {StoredObservation} */
function fromRow(r) {
  return { ...JSON.parse(r.data), arrivals: r.arrivals, conflicts: r.conflicts, raw: JSON.parse(r.raw), seq: r.seq, receivedAt: r.received_at };
}

/**
 * @typedef {{ id: string, name: string | null, userId: string | null, sessionId: string | null, tags: string[],
 *   public: boolean, metadata: Record<string, unknown>, environment: string, release: string | null,
 *   version: string | null, serviceName: string | null, startTime: number, endTime: number,
 *   input: string | null, output: string | null, rootObservationId: string | null, observationCount: number }} Trace
 */

/**
 * One trace from its observations (arrival order): trace-wide attributes are read per span, a later span's
 * value winning; tags are united, metadata merged; input/output are the root observation's (Langfuse drops
 * `langfuse.trace.input/output` on the OTLP path); the name defaults to the root's name.
 * @param {string} id
 * @param {StoredObservation[]} observations
 * @returns {Trace}
 */
export function aggregateTrace(id, observations) {
  const root = observations.find((o) => o.parentObservationId === null) ?? null;
  /** @param {(o: StoredObservation) => unknown} pick */
  const last = (pick) => {
    for (let i = observations.length - 1; i >= 0; i--) {
      const v = pick(/** @type {StoredObservation} */ (observations[i]));
      if (v !== null && v !== undefined) return v;
    }
    return null;
  };
  const nonDefault = last((o) => (o.environment === 'default' ? null : o.environment));
  return {
    id,
    name: /** @type {string | null} */ (last((o) => o.trace.name) ?? root?.name ?? null),
    userId: /** @type {string | null} */ (last((o) => o.trace.userId)),
    sessionId: /** @type {string | null} */ (last((o) => o.trace.sessionId)),
    tags: [...new Set(observations.flatMap((o) => o.trace.tags))],
    public: observations.some((o) => o.trace.public === true),
    metadata: Object.assign({}, ...observations.map((o) => o.trace.metadata)),
    environment: /** @type {string} */ (nonDefault ?? 'default'),
    release: /** @type {string | null} */ (last((o) => o.release)),
    version: /** @type {string | null} */ (last((o) => o.version)),
    serviceName: /** @type {string | null} */ (last((o) => o.serviceName)),
    startTime: Math.min(...observations.map((o) => o.startTime)),
    endTime: Math.max(...observations.map((o) => o.endTime)),
    input: root?.input ?? null,
    output: root?.output ?? null,
    rootObservationId: root?.id ?? null,
    observationCount: observations.length,
  };
}

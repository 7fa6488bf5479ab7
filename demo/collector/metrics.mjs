// Counters and the bounded request log of the ingestion routes (/ingestion and OTLP), with change notification.

/** Most request-log entries kept. */
export const REQUEST_LOG_LIMIT = 10_000;

/**
 * @typedef {{ at: number, status: number, path: 'ingestion' | 'otlp', count: number, ids: (string | null)[],
 *   contentType: string | null, contentEncoding: string | null, auth: import('./auth.mjs').AuthKind, bytes: number,
 *   url: string, referer: string | null }} RequestEntry
 * @typedef {{ eventsStored: number, observationsStored: number, spanDuplicates: number, spanConflicts: number,
 *   tracesStored: number, scoresStored: number }} StoredCounts
 * @typedef {{ requests: number, byStatus: Record<string, number>, eventsReceived: number, duplicates: number,
 *   bytesReceived: number, invalidEvents: number, refusedEvents: number, spansReceived: number, invalidSpanBatches: number,
 *   rejectedSpans: number } & StoredCounts} Stats
 */

/**
 * Creates the metrics. Counts of what is stored (events, observations, span duplicates, traces, scores) are
 * read from the store (`storedCounts`), so they match what the store returns, also after a restart on a file
 * database; the others count since start or reset. A request answered by destroying the socket has status 0.
 * @param {() => StoredCounts} storedCounts
 */
export function createMetrics(storedCounts) {
  /** @type {Set<() => void>} */
  const listeners = new Set();
  /** @type {RequestEntry[]} */
  let log = [];
  let counters = zero();
  /**
   * Every accepted arrival of an ingestion event id (a duplicate included, whatever the store kept): when and from
   * which page (`Referer`), and the request that carried it (its `status` is 0 while unanswered, and stays 0 when the
   * answer could not be delivered: the requester was gone). Unbounded like the store; the soak judges exactly-once on it.
   * @type {Map<string, { at: number, referer: string | null, request: RequestEntry }[]>}
   */
  let arrivals = new Map();

  function zero() {
    return {
      requests: 0, byStatus: /** @type {Record<string, number>} */ ({}), eventsReceived: 0, duplicates: 0, bytesReceived: 0,
      invalidEvents: 0, refusedEvents: 0, spansReceived: 0, invalidSpanBatches: 0, rejectedSpans: 0,
    };
  }
  function changed() {
    for (const fn of listeners) {
      try {
        fn();
      } catch {
        // a listener's failure must not break ingestion
      }
    }
  }

  return {
    /** Records one answered (or dropped) ingestion request. @param {RequestEntry} entry */
    recordRequest(entry) {
      counters.requests += 1;
      const key = String(entry.status);
      counters.byStatus[key] = (counters.byStatus[key] ?? 0) + 1;
      counters.bytesReceived += entry.bytes;
      log.push(entry);
      if (log.length > REQUEST_LOG_LIMIT) log.splice(0, log.length - REQUEST_LOG_LIMIT);
      changed();
    },
    /** Counts one accepted arrival of each id (the store's dedup aside). @param {string[]} ids @param {RequestEntry} entry */
    recordArrivals(ids, entry) {
      for (const id of ids) {
        const list = arrivals.get(id);
        const one = { at: entry.at, referer: entry.referer, request: entry };
        if (list) list.push(one);
        else arrivals.set(id, [one]);
      }
    },
    /** @returns {Map<string, { at: number, referer: string | null, request: RequestEntry }[]>} a copy: id → its accepted arrivals, in order */
    arrivals() {
      return new Map([...arrivals].map(([id, list]) => [id, [...list]]));
    },
    /**
     * Adds event counts of one processed batch: `invalid` failed validation, `refused` were valid but refused by
     * v4's rules (event type, Bearer scope, score rules).
     * @param {{ received: number, duplicates: number, invalid: number, refused?: number }} n
     */
    recordEvents(n) {
      counters.eventsReceived += n.received;
      counters.duplicates += n.duplicates;
      counters.invalidEvents += n.invalid;
      counters.refusedEvents += n.refused ?? 0;
      changed();
    },
    /**
     * Adds span counts of one OTLP request: `received` spans of a batch that passed validation, `rejected` of them
     * refused by a partial-success fault; `invalidBatch` when the whole batch was refused with 400.
     * @param {{ received?: number, rejected?: number, invalidBatch?: boolean }} n
     */
    recordSpans(n) {
      counters.spansReceived += n.received ?? 0;
      counters.rejectedSpans += n.rejected ?? 0;
      if (n.invalidBatch) counters.invalidSpanBatches += 1;
      changed();
    },
    /** @returns {Stats} a snapshot */
    stats() {
      const stored = storedCounts();
      return {
        requests: counters.requests,
        byStatus: { ...counters.byStatus },
        eventsReceived: counters.eventsReceived,
        eventsStored: stored.eventsStored,
        duplicates: counters.duplicates,
        bytesReceived: counters.bytesReceived,
        invalidEvents: counters.invalidEvents,
        refusedEvents: counters.refusedEvents,
        spansReceived: counters.spansReceived,
        observationsStored: stored.observationsStored,
        spanDuplicates: stored.spanDuplicates,
        spanConflicts: stored.spanConflicts,
        invalidSpanBatches: counters.invalidSpanBatches,
        rejectedSpans: counters.rejectedSpans,
        tracesStored: stored.tracesStored,
        scoresStored: stored.scoresStored,
      };
    },
    /** @returns {RequestEntry[]} a copy of the log, oldest first */
    requests() {
      return log.map((e) => ({ ...e, ids: [...e.ids] }));
    },
    /** Clears counters and the log, and notifies listeners. */
    reset() {
      counters = zero();
      log = [];
      arrivals = new Map();
      changed();
    },
    /** Calls `fn` after every change; returns the unsubscribe function. @param {() => void} fn */
    subscribe(fn) {
      listeners.add(fn);
      return () => {
        listeners.delete(fn);
      };
    },
  };
}

// Counters and the bounded request log of the ingestion route, with change notification.

/** Most request-log entries kept. */
export const REQUEST_LOG_LIMIT = 10_000;

/**
 * @typedef {{ at: number, status: number, count: number, ids: (string | null)[], contentType: string | null,
 *   contentEncoding: string | null, auth: import('./auth.mjs').AuthKind, bytes: number, url: string }} RequestEntry
 * @typedef {{ requests: number, byStatus: Record<string, number>, eventsReceived: number, eventsStored: number,
 *   duplicates: number, bytesReceived: number, invalidEvents: number }} Stats
 */

/**
 * Creates the metrics. `eventsStored` is read from the store (`storedCount`), so it matches what events()
 * returns, also after a restart on a file database. A request answered by destroying the socket has status 0.
 * @param {() => number} storedCount
 */
export function createMetrics(storedCount) {
  /** @type {Set<() => void>} */
  const listeners = new Set();
  /** @type {RequestEntry[]} */
  let log = [];
  let counters = zero();

  function zero() {
    return { requests: 0, byStatus: /** @type {Record<string, number>} */ ({}), eventsReceived: 0, duplicates: 0, bytesReceived: 0, invalidEvents: 0 };
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
    /** Adds event counts of one processed batch. @param {{ received: number, duplicates: number, invalid: number }} n */
    recordEvents(n) {
      counters.eventsReceived += n.received;
      counters.duplicates += n.duplicates;
      counters.invalidEvents += n.invalid;
      changed();
    },
    /** @returns {Stats} a snapshot */
    stats() {
      return {
        requests: counters.requests,
        byStatus: { ...counters.byStatus },
        eventsReceived: counters.eventsReceived,
        eventsStored: storedCount(),
        duplicates: counters.duplicates,
        bytesReceived: counters.bytesReceived,
        invalidEvents: counters.invalidEvents,
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

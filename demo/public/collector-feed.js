// The collector side of the dashboard: its stats pushed over Server-Sent Events (/control/stream), the stored
// events fetched incrementally (/control/events?after=seq), and the fault switch (/control/fault).

/**
 * Subscribes to the collector's stats stream. EventSource reconnects by itself (the server asks for 1 s).
 * @param {(stats: Record<string, any>) => void} onStats
 * @param {(state: 'live' | 'reconnecting') => void} onState
 * @returns {() => void} closes the stream
 */
export function watchCollectorStats(onStats, onState) {
  const source = new EventSource('/control/stream');
  source.addEventListener('stats', (e) => {
    try {
      onStats(JSON.parse(/** @type {MessageEvent} */ (e).data));
    } catch {
      /* a torn message: the next one carries the full state again */
    }
  });
  source.addEventListener('open', () => onState('live'));
  source.addEventListener('error', () => onState('reconnecting'));
  return () => source.close();
}

/**
 * Keeps the last `keep` stored events and counts stored events by type, fetching only what is new.
 * @param {number} [keep] default 10
 */
export function createEventFeed(keep = 10) {
  let lastSeq = 0;
  /** @type {any[]} */
  let last = [];
  /** @type {Map<string, number>} */
  let byType = new Map();
  /** @type {Promise<void> | null} */
  let running = null;
  /** The stored count of an update() that arrived while a pull ran: pull again for it afterwards. */
  let pendingCount = -1;

  async function pull(storedCount) {
    // Fewer stored than we have seen: the collector was cleared (or its database replaced); start over.
    if (storedCount < lastSeq && storedCount < sum()) {
      lastSeq = 0;
      last = [];
      byType = new Map();
    }
    for (;;) {
      const res = await fetch(`/control/events?after=${lastSeq}&limit=5000`, { cache: 'no-store' });
      if (!res.ok) return;
      const { events } = await res.json();
      for (const e of events) {
        lastSeq = Math.max(lastSeq, e.seq);
        byType.set(String(e.type), (byType.get(String(e.type)) ?? 0) + 1);
      }
      last = [...last, ...events.slice(-keep)].slice(-keep);
      if (events.length < 5000) return;
    }
  }
  function sum() {
    let n = 0;
    for (const v of byType.values()) n += v;
    return n;
  }

  return {
    /**
     * Fetches events newer than the last seen. One fetch loop at a time; a call made meanwhile is not lost: the
     * loop runs once more after it (events may have arrived after its last fetch).
     * @param {number} storedCount
     */
    update(storedCount) {
      if (running) {
        pendingCount = storedCount;
        return running;
      }
      running = (async () => {
        let count = storedCount;
        for (;;) {
          await pull(count).catch(() => undefined);
          if (pendingCount < 0) break;
          count = pendingCount;
          pendingCount = -1;
        }
      })().finally(() => (running = null));
      return running;
    },
    /** Newest first. */
    latest: () => [...last].reverse(),
    byType: () => [...byType.entries()].sort((a, b) => b[1] - a[1]),
  };
}

/**
 * Sets the collector's fault mode; resolves with an error message or ''.
 * @param {unknown} fault e.g. { mode: 'status', status: 500 }
 */
export async function setFault(fault) {
  const res = await fetch('/control/fault', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fault) });
  return res.ok ? '' : `${res.status} ${await res.text()}`;
}

/** Reads the fault in force. @returns {Promise<Record<string, any>>} */
export async function getFault() {
  return (await fetch('/control/fault', { cache: 'no-store' })).json();
}

/** Clears the collector's events, counters and fault. */
export async function resetCollector() {
  await fetch('/control/reset', { method: 'POST' });
}

/** Describes a fault in a few words, e.g. '500' or '429, Retry-After 5'. @param {Record<string, any>} f */
export function describeFault(f) {
  switch (f.mode) {
    case 'none': return 'none';
    case 'down': return 'down (connections dropped)';
    case 'status': return f.retryAfter ? `${f.status}, Retry-After ${f.retryAfter}` : String(f.status);
    case 'slow': return `slow (${f.delayMs} ms)`;
    default: return String(f.mode);
  }
}

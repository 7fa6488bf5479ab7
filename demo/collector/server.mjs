// The collector: a Langfuse-style server (/api/public/ingestion and OTLP/HTTP JSON traces) with fault
// injection, a control API and static files.
// Routing and lifecycle live here; each concern has its own module.
import http from 'node:http';
import { openStore } from './store.mjs';
import { createMetrics } from './metrics.mjs';
import { createFaults } from './faults.mjs';
import { corsHeaders } from './cors.mjs';
import { handleIngestion } from './ingest.mjs';
import { handleOtlp } from './otlp.mjs';
import { handleControl, CONTROL_ROUTES } from './control.mjs';
import { serveStatic } from './static.mjs';
import { sendJson, sendText } from './respond.mjs';

/** Path of the ingestion route (a trailing slash is accepted too). */
export const INGESTION_PATH = '/api/public/ingestion';
/** Path of the OTLP/HTTP traces route (a trailing slash is accepted too). */
export const OTLP_PATH = '/api/public/otel/v1/traces';

/**
 * @typedef {object} CollectorOptions
 * @property {number} [port] 0 (default) picks a free port
 * @property {string} [host] default '127.0.0.1'
 * @property {string} [dbPath] SQLite file, or ':memory:' (default)
 * @property {number} [maxBodyBytes] raw body limit, default 5 MiB (413 above)
 * @property {number} [maxInflatedBytes] decoded body limit, default 20 MiB (413 above)
 * @property {string[] | null} [allowedOrigins] CORS origins; null (default) echoes any Origin
 * @property {string[] | null} [publicKeys] accepted public keys; null (default) accepts any key or none
 * @property {string[] | null} [secretKeys] accepted secret keys of Basic auth; null (default) accepts any
 * @property {'v3' | 'v4'} [langfuse] how /ingestion answers: 'v3' (default, every event type, beacons and
 *   ?pk= accepted) or 'v4' (as Langfuse v4: only score-create and sdk-log, Authorization header only). Tests of
 *   the v4 paths start the collector with 'v4'.
 * @property {boolean} [acceptBeacons] in 'v4' mode, accept text/plain bodies, gzip and ?pk= on /ingestion as a
 *   relay would; default false
 * @property {{ prefix: string, dir: string }[]} [staticDirs] directories served under URL prefixes
 * @property {Mount[]} [mounts] request listeners routed before the collector's own routes: a request whose path
 *   is `prefix` or starts with `prefix + '/'` goes to `listener` (e.g. a relay at '/lf'); first match wins
 */

/**
 * @typedef {object} Mount
 * @property {string} prefix a path like '/lf' (starts with '/', no trailing slash)
 * @property {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void} listener
 */

/**
 * Starts a collector and resolves once it listens.
 * @param {CollectorOptions} [opts]
 */
export async function startCollector(opts = {}) {
  const {
    port = 0,
    host = '127.0.0.1',
    dbPath = ':memory:',
    maxBodyBytes = 5 * 1024 * 1024,
    maxInflatedBytes = 20 * 1024 * 1024,
    allowedOrigins = null,
    publicKeys = null,
    secretKeys = null,
    langfuse = 'v3',
    acceptBeacons = false,
    staticDirs = [],
    mounts = [],
  } = opts;
  if (langfuse !== 'v3' && langfuse !== 'v4') throw new TypeError(`startCollector: langfuse must be 'v3' or 'v4', got '${langfuse}'`);
  if (!Array.isArray(mounts)) throw new TypeError('startCollector: mounts must be an array of { prefix, listener }');
  for (const m of mounts) {
    if (typeof m?.prefix !== 'string' || !/^\/[^?#]*[^/?#]$/.test(m.prefix)) {
      throw new TypeError(`startCollector: mounts[].prefix must be a path like '/lf' (no trailing slash), got ${JSON.stringify(m?.prefix)}`);
    }
    if (typeof m.listener !== 'function') throw new TypeError(`startCollector: mounts[].listener for '${m.prefix}' must be a function (req, res)`);
  }

  const store = openStore(dbPath);
  const metrics = createMetrics(() => ({ eventsStored: store.count(), scoresStored: store.scores.count(), ...store.spans.counts() }));
  const faults = createFaults();
  let closed = false;

  /** Pending slow-mode answers: timer → resolve, released at close. */
  const pending = new Map();
  /** @param {number} ms @returns {Promise<void>} */
  const delay = (ms) =>
    new Promise((resolve) => {
      if (closed) return resolve();
      const timer = setTimeout(() => {
        pending.delete(timer);
        resolve();
      }, ms);
      pending.set(timer, resolve);
    });

  const ingestContext = {
    store,
    metrics,
    faults,
    maxBodyBytes,
    maxInflatedBytes,
    publicKeys,
    secretKeys,
    langfuse,
    acceptBeacons,
    isClosed: () => closed,
    delay,
  };

  /** @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res */
  async function route(req, res) {
    const rawUrl = req.url ?? '/';
    const url = new URL(rawUrl.startsWith('/') ? `http://collector.local${rawUrl}` : 'http://collector.local/');
    const path = url.pathname;
    const mount = mounts.find((m) => path === m.prefix || path.startsWith(`${m.prefix}/`));
    if (mount) return mount.listener(req, res);
    const cors = corsHeaders(req.headers, allowedOrigins);

    if (path === INGESTION_PATH || path === `${INGESTION_PATH}/`) {
      if (req.method === 'POST') return handleIngestion(req, res, url, ingestContext, cors);
      if (req.method === 'OPTIONS') return sendText(res, 204, cors);
      return sendJson(res, 405, { message: `method ${req.method} not allowed; use POST` }, { ...cors, allow: 'POST, OPTIONS' });
    }
    if (path === OTLP_PATH || path === `${OTLP_PATH}/`) {
      if (req.method === 'POST') return handleOtlp(req, res, ingestContext, cors);
      if (req.method === 'OPTIONS') return sendText(res, 204, cors);
      return sendJson(res, 405, { message: `method ${req.method} not allowed; use POST` }, { ...cors, allow: 'POST, OPTIONS' });
    }
    if (Object.hasOwn(CONTROL_ROUTES, path)) return handleControl(req, res, url, controlTarget, cors);
    if (path === '/healthz') return sendText(res, 200, cors, 'ok');
    if (await serveStatic(req, res, path, staticDirs)) return;
    return sendJson(res, 404, { message: `not found: ${path}` }, cors);
  }

  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    route(req, res).catch((err) => {
      if (!res.headersSent) sendJson(res, 500, { message: `internal error: ${err?.message ?? err}` });
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  try {
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(undefined);
      });
    });
  } catch (err) {
    store.close();
    throw err;
  }

  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  const baseUrl = `http://${urlHost}:${address.port}`;

  /** @type {Promise<void> | null} */
  let closing = null;

  const collector = {
    url: baseUrl,
    port: address.port,
    endpoint: `${baseUrl}${INGESTION_PATH}`,
    otlpEndpoint: `${baseUrl}${OTLP_PATH}`,
    langfuse,
    /** Stops the server (open sockets and streams are destroyed) and closes the database; idempotent. */
    close() {
      if (!closing) {
        closing = new Promise((resolve) => {
          closed = true;
          for (const [timer, release] of pending) {
            clearTimeout(timer);
            release();
          }
          pending.clear();
          server.close(() => {
            store.close();
            resolve();
          });
          for (const socket of sockets) socket.destroy();
        });
      }
      return closing;
    },
    /** Stored events in arrival order. @param {{ after?: number, limit?: number }} [query] */
    events(query) {
      return store.events(query);
    },
    /**
     * Stored observations (one per span id, with `arrivals`) in arrival order, optionally filtered.
     * @param {import('./span-store.mjs').ObservationQuery} [query]
     */
    observations(query) {
      return store.spans.observations(query);
    },
    /**
     * Traces read off their observations, newest first; each with its observations and scores when asked.
     * @param {{ limit?: number, withObservations?: boolean }} [query] limit default 1000
     */
    traces({ limit, withObservations = false } = {}) {
      return store.spans.traces({ limit }).map(({ trace, observations }) =>
        withObservations ? { ...trace, observations, scores: store.scores.scores({ traceId: trace.id }) } : trace,
      );
    },
    /** Stored scores in arrival order. @param {{ traceId?: string }} [query] */
    scores(query) {
      return store.scores.scores(query);
    },
    /** How often each span id arrived (1 = once, no duplicate). */
    spanArrivals() {
      return store.spans.spanArrivals();
    },
    /** Counters since start or the last reset. */
    stats() {
      return metrics.stats();
    },
    /** Every accepted arrival of each ingestion event id, duplicates included (the store keeps one row per id). */
    arrivals() {
      return metrics.arrivals();
    },
    /** The last 10 000 requests of both ingestion routes, oldest first (`path` says which). */
    requests() {
      return metrics.requests();
    },
    /** The fault in force (with the remaining `times`, if limited). */
    fault() {
      return faults.current();
    },
    /** Sets the fault for the next ingestion requests; throws a TypeError if it is invalid. @param {unknown} fault */
    setFault(fault) {
      faults.set(fault);
    },
    /** Clears events, observations, scores, counters, the request log and the fault. */
    reset() {
      faults.reset();
      store.clear();
      metrics.reset();
    },
    /**
     * Resolves with the predicate's value once it is truthy (polled every 25 ms; a throw counts as not yet);
     * rejects after `timeoutMs` with the predicate, its last error and the stats.
     * @template T
     * @param {(c: typeof collector) => T | Promise<T>} predicate
     * @param {number} [timeoutMs]
     * @returns {Promise<T>}
     */
    async waitFor(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      /** @type {unknown} */
      let lastError;
      for (;;) {
        try {
          const value = await predicate(collector);
          if (value) return value;
          lastError = undefined;
        } catch (err) {
          lastError = err;
        }
        if (Date.now() >= deadline) {
          const why = lastError ? `; last error: ${/** @type {Error} */ (lastError)?.message ?? lastError}` : '';
          let stats = '(closed)';
          try {
            stats = JSON.stringify(metrics.stats());
          } catch {
            // the database is closed
          }
          throw new Error(
            `collector.waitFor: condition not met within ${timeoutMs} ms: ${String(predicate).slice(0, 200)}${why}; stats: ${stats}`,
          );
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };

  const controlTarget = {
    stats: () => collector.stats(),
    events: (/** @type {{ after?: number, limit?: number } | undefined} */ q) => collector.events(q),
    requests: () => collector.requests(),
    observations: (/** @type {import('./span-store.mjs').ObservationQuery | undefined} */ q) => collector.observations(q),
    traces: (/** @type {{ limit?: number, withObservations?: boolean } | undefined} */ q) => collector.traces(q),
    scores: (/** @type {{ traceId?: string } | undefined} */ q) => collector.scores(q),
    spanArrivals: () => collector.spanArrivals(),
    fault: () => collector.fault(),
    setFault: (/** @type {unknown} */ f) => collector.setFault(f),
    reset: () => collector.reset(),
    subscribe: metrics.subscribe,
  };

  return collector;
}

// The control API: JSON routes for tests and the dashboard (no fault applies here).
import { readBody, HttpError } from './body.mjs';
import { sendJson, sendText } from './respond.mjs';
import { openStatsStream } from './sse.mjs';

/**
 * @typedef {{ stats: () => unknown, events: (opts?: { after?: number, limit?: number }) => unknown[],
 *   requests: () => unknown[],
 *   observations: (q?: { traceId?: string, type?: string, name?: string, after?: number, limit?: number }) => unknown[],
 *   traces: (q?: { limit?: number, withObservations?: boolean }) => unknown[], scores: (q?: { traceId?: string }) => unknown[],
 *   spanArrivals: () => Record<string, number>, setFault: (fault: unknown) => void, fault: () => unknown, reset: () => void,
 *   subscribe: (fn: () => void) => () => void }} ControlTarget
 */

/** Paths of the control API, with the methods each accepts. */
export const CONTROL_ROUTES = {
  '/control/stats': ['GET'],
  '/control/events': ['GET'],
  '/control/requests': ['GET'],
  '/control/observations': ['GET'],
  '/control/traces': ['GET'],
  '/control/scores': ['GET'],
  '/control/span-arrivals': ['GET'],
  '/control/fault': ['GET', 'POST'],
  '/control/reset': ['POST'],
  '/control/stream': ['GET'],
};

/**
 * Parses an optional non-negative integer query parameter.
 * @param {URLSearchParams} params
 * @param {string} name
 * @param {number} fallback
 * @param {number} max
 */
function intParam(params, name, fallback, max) {
  const raw = params.get(name);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new HttpError(400, `query parameter '${name}' must be a non-negative integer`);
  return Math.min(n, max);
}

/**
 * Handles a control route. The caller has matched the path against CONTROL_ROUTES.
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {URL} url
 * @param {ControlTarget} target
 * @param {Record<string, string>} cors
 * @returns {Promise<void>}
 */
export async function handleControl(req, res, url, target, cors) {
  const path = /** @type {keyof typeof CONTROL_ROUTES} */ (url.pathname);
  const methods = CONTROL_ROUTES[path];
  if (req.method === 'OPTIONS') return sendText(res, 204, cors);
  if (!methods.includes(req.method ?? '')) {
    return sendJson(res, 405, { message: `method ${req.method} not allowed on ${path}` }, { ...cors, allow: [...methods, 'OPTIONS'].join(', ') });
  }
  try {
    switch (`${req.method} ${path}`) {
      case 'GET /control/stats':
        return sendJson(res, 200, target.stats(), cors);
      case 'GET /control/events': {
        const after = intParam(url.searchParams, 'after', 0, Number.MAX_SAFE_INTEGER);
        const limit = intParam(url.searchParams, 'limit', 10_000, 100_000);
        return sendJson(res, 200, { events: target.events({ after, limit }) }, cors);
      }
      case 'GET /control/requests':
        return sendJson(res, 200, { requests: target.requests() }, cors);
      case 'GET /control/observations': {
        const p = url.searchParams;
        /** @param {string} name */
        const opt = (name) => p.get(name) ?? undefined;
        const after = intParam(p, 'after', 0, Number.MAX_SAFE_INTEGER);
        const limit = intParam(p, 'limit', 10_000, 100_000);
        return sendJson(res, 200, { observations: target.observations({ traceId: opt('traceId'), type: opt('type'), name: opt('name'), after, limit }) }, cors);
      }
      case 'GET /control/traces': {
        const limit = intParam(url.searchParams, 'limit', 1000, 10_000);
        const withObservations = url.searchParams.get('observations') === '1';
        return sendJson(res, 200, { traces: target.traces({ limit, withObservations }) }, cors);
      }
      case 'GET /control/scores':
        return sendJson(res, 200, { scores: target.scores({ traceId: url.searchParams.get('traceId') ?? undefined }) }, cors);
      case 'GET /control/span-arrivals':
        return sendJson(res, 200, { arrivals: target.spanArrivals() }, cors);
      case 'GET /control/fault':
        return sendJson(res, 200, target.fault(), cors);
      case 'POST /control/fault': {
        const raw = await readBody(req, { maxBytes: 1024 * 1024 });
        let fault;
        try {
          fault = JSON.parse(raw.toString('utf8'));
        } catch (err) {
          throw new HttpError(400, `invalid JSON: ${/** @type {Error} */ (err).message}`);
        }
        try {
          target.setFault(fault);
        } catch (err) {
          throw new HttpError(400, /** @type {Error} */ (err).message);
        }
        return sendText(res, 204, cors);
      }
      case 'POST /control/reset':
        target.reset();
        return sendText(res, 204, cors);
      case 'GET /control/stream':
        openStatsStream(req, res, { snapshot: target.stats, subscribe: target.subscribe, headers: cors });
        return;
    }
  } catch (err) {
    if (err instanceof HttpError) return sendJson(res, err.status, { message: err.message }, cors);
    return sendJson(res, 500, { message: `internal error: ${/** @type {Error} */ (err).message}` }, cors);
  }
}

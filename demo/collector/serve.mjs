// The frame every ingestion route shares: take the route's fault, compute the answer, delay it, deliver it, log it.
import { HttpError } from './body.mjs';
import { sendJson } from './respond.mjs';

/**
 * @typedef {import('./faults.mjs').Fault} Fault
 * @typedef {{ status: number, body: unknown, headers?: Record<string, string> }} Answer
 * @typedef {{ metrics: ReturnType<typeof import('./metrics.mjs').createMetrics>,
 *   faults: ReturnType<typeof import('./faults.mjs').createFaults>, delay: (ms: number) => Promise<void> }} ServeContext
 */

/**
 * The answer of a `status` fault: that status, `{ message }`, and Retry-After when given. A 429 also carries
 * Langfuse Cloud's body `{ code: 'rate_limited', details: { retryAfterSeconds } }` (the one part a cross-origin
 * page can read when Retry-After is not exposed), when Retry-After is a number of seconds.
 * @param {Fault} fault a fault whose mode is 'status'
 * @returns {Answer}
 */
export function statusFaultAnswer(fault) {
  const f = /** @type {{ status: number, retryAfter?: string }} */ (fault);
  const message = `injected fault: status ${f.status}`;
  const seconds = f.retryAfter !== undefined && /^\d+$/.test(f.retryAfter) ? Number(f.retryAfter) : null;
  return {
    status: f.status,
    body: f.status === 429 && seconds !== null ? { message, code: 'rate_limited', details: { retryAfterSeconds: seconds } } : { message },
    headers: f.retryAfter !== undefined ? { 'retry-after': f.retryAfter } : {},
  };
}

/**
 * Serves one request of an ingestion route and records it in the metrics. Fault 'down' destroys the socket
 * before anything is read; 'slow' (and 'status' with `delayMs`) delays the answer after `compute` has run (so
 * the work is done at once);
 * other faults are for `compute` to apply. An HttpError thrown by `compute` becomes `{ message }` with its
 * status, anything else a 500. Status 0 in the log means no answer was delivered.
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {{ ctx: ServeContext, route: import('./faults.mjs').RoutePath, entry: import('./metrics.mjs').RequestEntry,
 *   cors: Record<string, string>, compute: (fault: Fault) => Promise<Answer> }} opts
 * @returns {Promise<void>}
 */
export async function serveWithFaults(req, res, { ctx, route, entry, cors, compute }) {
  const socket = req.socket;
  const fault = ctx.faults.take(route);
  if (fault.mode === 'down') {
    socket.destroy();
    ctx.metrics.recordRequest(entry);
    return;
  }
  /** @type {Answer} */
  let answer;
  try {
    answer = await compute(fault);
  } catch (err) {
    answer =
      err instanceof HttpError
        ? { status: err.status, body: { message: err.message } }
        : { status: 500, body: { message: `internal error: ${/** @type {Error} */ (err)?.message ?? err}` } };
  }
  const holdMs = fault.mode === 'slow' || fault.mode === 'status' ? (fault.delayMs ?? 0) : 0;
  if (holdMs > 0) await ctx.delay(holdMs);

  const delivered = !socket.destroyed && !res.headersSent;
  entry.status = delivered ? answer.status : 0;
  ctx.metrics.recordRequest(entry);
  if (delivered) sendJson(res, answer.status, answer.body, { ...cors, ...answer.headers });
}

/**
 * A new request-log entry for a request (status 0 until answered).
 * @param {import('node:http').IncomingMessage} req
 * @param {'ingestion' | 'otlp'} path
 * @param {import('./auth.mjs').AuthKind} auth
 * @returns {import('./metrics.mjs').RequestEntry}
 */
export function newEntry(req, path, auth) {
  return {
    at: Date.now(),
    status: 0,
    path,
    count: 0,
    ids: [],
    contentType: req.headers['content-type'] ?? null,
    contentEncoding: req.headers['content-encoding'] ?? null,
    auth,
    bytes: 0,
    url: req.url ?? '',
    referer: req.headers.referer ?? null,
  };
}

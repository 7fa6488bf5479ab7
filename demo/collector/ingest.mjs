// The HTTP handler of POST /api/public/ingestion: faults, key, bounded body, decoding, batch processing, answer.
import { readBody, decodeBody, parseJsonBody, HttpError } from './body.mjs';
import { extractKey, isKeyAllowed } from './auth.mjs';
import { processBatch, summarize } from './batch.mjs';
import { sendJson } from './respond.mjs';

/**
 * @typedef {{ store: ReturnType<typeof import('./store.mjs').openStore>,
 *   metrics: ReturnType<typeof import('./metrics.mjs').createMetrics>,
 *   faults: ReturnType<typeof import('./faults.mjs').createFaults>,
 *   maxBodyBytes: number, maxInflatedBytes: number, publicKeys: Iterable<string> | null,
 *   isClosed: () => boolean, delay: (ms: number) => Promise<void> }} IngestContext
 * @typedef {{ status: number, body: unknown, headers?: Record<string, string> }} Answer
 */

/**
 * Handles one ingestion request and records it in the metrics. Status 0 in the log means no answer was
 * delivered (fault 'down', or the client went away first).
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {URL} url
 * @param {IngestContext} ctx
 * @param {Record<string, string>} cors headers to add to the answer
 * @returns {Promise<void>}
 */
export async function handleIngestion(req, res, url, ctx, cors) {
  const socket = req.socket;
  const { auth, publicKey } = extractKey(req.headers, url);
  /** @type {import('./metrics.mjs').RequestEntry} */
  const entry = {
    at: Date.now(),
    status: 0,
    count: 0,
    ids: [],
    contentType: req.headers['content-type'] ?? null,
    contentEncoding: req.headers['content-encoding'] ?? null,
    auth,
    bytes: 0,
    url: req.url ?? '',
  };
  const fault = ctx.faults.take();

  if (fault.mode === 'down') {
    socket.destroy();
    ctx.metrics.recordRequest(entry);
    return;
  }

  /** @type {() => Answer} */
  const faultAnswer = () => {
    const f = /** @type {{ status: number, retryAfter?: string }} */ (fault);
    return {
      status: f.status,
      body: { message: `injected fault: status ${f.status}` },
      headers: f.retryAfter !== undefined ? { 'retry-after': f.retryAfter } : {},
    };
  };

  /** @returns {Promise<Answer>} */
  const compute = async () => {
    let raw;
    try {
      raw = await readBody(req, { maxBytes: ctx.maxBodyBytes });
    } catch (err) {
      if (err instanceof HttpError) entry.bytes = err.bytes;
      if (fault.mode === 'status') return faultAnswer();
      throw err;
    }
    entry.bytes = raw.length;

    let payload;
    /** @type {unknown} */
    let payloadError = null;
    try {
      const decoded = await decodeBody(raw, req.headers['content-encoding'], { maxInflatedBytes: ctx.maxInflatedBytes });
      payload = parseJsonBody(decoded, req.headers['content-type']);
      Object.assign(entry, summarize(payload));
    } catch (err) {
      payloadError = err;
    }

    if (fault.mode === 'status') return faultAnswer();
    if (!isKeyAllowed(publicKey, ctx.publicKeys)) {
      return { status: 401, body: { message: publicKey ? 'unknown public key' : 'missing public key (Authorization header or ?pk=)' } };
    }
    if (payloadError) throw payloadError;
    if (ctx.isClosed()) throw new HttpError(503, 'collector is closing');

    const out = processBatch(payload, {
      store: ctx.store,
      receivedAt: entry.at,
      failIds: fault.mode === 'fail-ids' ? fault.ids : null,
    });
    ctx.metrics.recordEvents(out);
    return { status: 207, body: out.result };
  };

  /** @type {Answer} */
  let answer;
  try {
    answer = await compute();
  } catch (err) {
    answer =
      err instanceof HttpError
        ? { status: err.status, body: { message: err.message } }
        : { status: 500, body: { message: `internal error: ${/** @type {Error} */ (err)?.message ?? err}` } };
  }
  if (fault.mode === 'slow') await ctx.delay(fault.delayMs);

  const delivered = !socket.destroyed && !res.headersSent;
  entry.status = delivered ? answer.status : 0;
  ctx.metrics.recordRequest(entry);
  if (delivered) sendJson(res, answer.status, answer.body, { ...cors, ...answer.headers });
}

// The HTTP handler of POST /api/public/ingestion: key, bounded body, decoding, batch processing, answer; in
// `v4` mode with Langfuse v4's authentication (Authorization header only) and event filter.
import { readBody, decodeBody, parseJsonBody, HttpError } from './body.mjs';
import { extractKey, readAuthorization, isKeyAllowed } from './auth.mjs';
import { processBatch, summarize } from './batch.mjs';
import { serveWithFaults, statusFaultAnswer, newEntry } from './serve.mjs';

/**
 * @typedef {import('./serve.mjs').ServeContext & { store: ReturnType<typeof import('./store.mjs').openStore>,
 *   maxBodyBytes: number, maxInflatedBytes: number, publicKeys: Iterable<string> | null,
 *   secretKeys: Iterable<string> | null, langfuse: 'v3' | 'v4', acceptBeacons: boolean,
 *   isClosed: () => boolean }} IngestContext
 * @typedef {import('./serve.mjs').Answer} Answer
 */

/**
 * Who is sending. `v3` (and `v4` with `acceptBeacons`, like a relay): Bearer, Basic, else `?pk=`. Plain `v4`:
 * the Authorization header only, as Langfuse reads it. A Basic key's secret must be in `secretKeys` (if set).
 * Bearer and `?pk=` carry a public key alone, which v4 lets send scores only.
 * @param {import('node:http').IncomingMessage} req
 * @param {URL} url
 * @param {IngestContext} ctx
 */
function identify(req, url, ctx) {
  const strict = ctx.langfuse === 'v4' && !ctx.acceptBeacons;
  const header = readAuthorization(req.headers);
  const { auth, publicKey } = strict ? header : extractKey(req.headers, url);
  const secretOk = auth !== 'basic' || ctx.secretKeys == null || (header.auth === 'basic' && isKeyAllowed(header.secretKey, ctx.secretKeys));
  /** @type {string | null} */
  let problem = null;
  if (strict && auth === 'none') {
    problem = 'missing or invalid Authorization header (Langfuse reads only this header: ?pk= and text/plain beacons never authenticate)';
  } else if (!isKeyAllowed(publicKey, ctx.publicKeys)) {
    problem = publicKey ? 'unknown public key' : 'missing public key (Authorization header or ?pk=)';
  } else if (!secretOk) {
    problem = 'invalid secret key';
  }
  return { auth, problem, scope: /** @type {'project' | 'scores'} */ (auth === 'basic' || auth === 'none' ? 'project' : 'scores') };
}

/**
 * Plain v4 refuses what Langfuse's body parser would not turn into an object: a gzip body (400 Invalid JSON) and
 * any content type but application/json (the body reaches the handler as a string: 400 invalid envelope).
 * @param {import('node:http').IncomingMessage} req
 * @returns {string | null}
 */
function v4BodyProblem(req) {
  const encoding = String(req.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity') return `Invalid JSON: Langfuse's /ingestion takes no Content-Encoding ('${encoding}')`;
  const mediaType = String(req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    return `invalid envelope: a '${mediaType || 'no content type'}' body is not parsed as JSON by Langfuse (use application/json)`;
  }
  return null;
}

/**
 * Handles one ingestion request and records it in the metrics.
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {URL} url
 * @param {IngestContext} ctx
 * @param {Record<string, string>} cors headers to add to the answer
 * @returns {Promise<void>}
 */
export function handleIngestion(req, res, url, ctx, cors) {
  const who = identify(req, url, ctx);
  const entry = newEntry(req, 'ingestion', who.auth);
  const strict = ctx.langfuse === 'v4' && !ctx.acceptBeacons;

  /** @param {import('./faults.mjs').Fault} fault @returns {Promise<Answer>} */
  const compute = async (fault) => {
    let raw;
    try {
      raw = await readBody(req, { maxBytes: ctx.maxBodyBytes });
    } catch (err) {
      if (err instanceof HttpError) entry.bytes = err.bytes;
      if (fault.mode === 'status') return statusFaultAnswer(fault);
      throw err;
    }
    entry.bytes = raw.length;

    let payload;
    /** @type {unknown} */
    let payloadError = null;
    try {
      const bodyProblem = strict ? v4BodyProblem(req) : null;
      if (bodyProblem) throw new HttpError(400, bodyProblem);
      const decoded = await decodeBody(raw, req.headers['content-encoding'], { maxInflatedBytes: ctx.maxInflatedBytes });
      payload = parseJsonBody(decoded, req.headers['content-type']);
      Object.assign(entry, summarize(payload));
    } catch (err) {
      payloadError = err;
    }

    if (fault.mode === 'status') return statusFaultAnswer(fault);
    if (who.problem) return { status: 401, body: { message: who.problem } };
    if (payloadError) throw payloadError;
    if (ctx.isClosed()) throw new HttpError(503, 'collector is closing');

    const out = processBatch(payload, {
      store: ctx.store,
      receivedAt: entry.at,
      failIds: fault.mode === 'fail-ids' ? fault.ids : null,
      langfuse: ctx.langfuse,
      scope: who.scope,
    });
    ctx.metrics.recordEvents(out);
    ctx.metrics.recordArrivals(out.result.successes.map((x) => x.id), entry);
    return { status: 207, body: out.result };
  };

  return serveWithFaults(req, res, { ctx, route: 'ingestion', entry, cors, compute });
}

// The HTTP handler of POST /api/public/otel/v1/traces (OTLP/HTTP JSON), answering as Langfuse's route does.
import { readBody, decodeBody, HttpError } from './body.mjs';
import { readAuthorization, isKeyAllowed } from './auth.mjs';
import { processExport, summarizeExport } from './otlp-batch.mjs';
import { serveWithFaults, statusFaultAnswer, newEntry } from './serve.mjs';

/**
 * @typedef {import('./serve.mjs').Answer} Answer
 * @typedef {import('./serve.mjs').ServeContext & { store: ReturnType<typeof import('./store.mjs').openStore>,
 *   maxBodyBytes: number, maxInflatedBytes: number, publicKeys: Iterable<string> | null,
 *   secretKeys: Iterable<string> | null, isClosed: () => boolean }} OtlpContext
 */

/** Highest `x-langfuse-ingestion-version` Langfuse takes (above → 400). */
const MAX_INGESTION_VERSION = 4;

/**
 * Checks the Authorization header as Langfuse's OTLP route does: Basic pk:sk with a known key → null; Bearer
 * (a public key alone, scores only) → 403; none, junk or an unknown key → 401.
 * @param {ReturnType<typeof readAuthorization>} key
 * @param {OtlpContext} ctx
 * @returns {Answer | null}
 */
function authProblem(key, ctx) {
  if (key.auth === 'bearer') return { status: 403, body: { message: 'insufficient permissions for this endpoint' } };
  if (key.auth !== 'basic') return { status: 401, body: { message: 'missing or invalid Authorization header (use Basic base64(publicKey:secretKey))' } };
  if (!isKeyAllowed(key.publicKey, ctx.publicKeys)) return { status: 401, body: { message: 'unknown public key' } };
  if (!isKeyAllowed(key.secretKey, ctx.secretKeys)) return { status: 401, body: { message: 'invalid secret key' } };
  return null;
}

/**
 * Handles one OTLP export request and records it in the metrics. Order: body limit (413), `status` fault,
 * auth (401/403), ingestion-version header (400), decoding (gzip; a bomb → 413), content type (JSON; protobuf
 * → 415; else 400 `{ error: 'Invalid content type' }`), JSON (400), then the whole-batch checks. 200 `{}` on
 * success (OTLP's empty ExportTraceServiceResponse).
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {OtlpContext} ctx
 * @param {Record<string, string>} cors
 * @returns {Promise<void>}
 */
export function handleOtlp(req, res, ctx, cors) {
  const key = readAuthorization(req.headers);
  const entry = newEntry(req, 'otlp', key.auth);

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
    if (fault.mode === 'status') return statusFaultAnswer(fault);

    const refused = authProblem(key, ctx);
    if (refused) return refused;
    const version = req.headers['x-langfuse-ingestion-version'];
    if (version !== undefined && !(Number(version) <= MAX_INGESTION_VERSION)) {
      return { status: 400, body: { message: `unsupported x-langfuse-ingestion-version '${version}' (at most ${MAX_INGESTION_VERSION})` } };
    }

    const decoded = await decodeBody(raw, req.headers['content-encoding'], { maxInflatedBytes: ctx.maxInflatedBytes });
    const contentType = String(req.headers['content-type'] ?? '').toLowerCase();
    if (contentType.includes('application/x-protobuf')) return { status: 415, body: { message: 'protobuf not supported by this collector (send OTLP/JSON)' } };
    if (!contentType.includes('application/json')) return { status: 400, body: { error: 'Invalid content type' } };

    let payload;
    try {
      payload = JSON.parse(decoded.toString('utf8'));
    } catch (err) {
      return { status: 400, body: { message: `invalid JSON: ${/** @type {Error} */ (err).message}` } };
    }
    Object.assign(entry, summarizeExport(payload));
    if (ctx.isClosed()) throw new HttpError(503, 'collector is closing');

    const out = processExport(payload, { spans: ctx.store.spans, receivedAt: entry.at, fault });
    ctx.metrics.recordSpans(out);
    return out.answer;
  };

  return serveWithFaults(req, res, { ctx, route: 'otlp', entry, cors, compute });
}

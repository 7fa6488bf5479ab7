// Bounded reading and decoding of request bodies.
import zlib from 'node:zlib';
import { promisify } from 'node:util';

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const brotli = promisify(zlib.brotliDecompress);

/** An error that maps to an HTTP answer `{ message }` with `status`. */
export class HttpError extends Error {
  /**
   * @param {number} status HTTP status to answer with
   * @param {string} message
   * @param {{ bytes?: number }} [extra] `bytes`: raw body bytes read before the error
   */
  constructor(status, message, extra = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.bytes = extra.bytes ?? 0;
  }
}

/**
 * Reads a request body, refusing more than `maxBytes` raw bytes with HttpError(413) as soon as the limit is
 * crossed (or announced by Content-Length). After a refusal the rest of the request is discarded unbuffered,
 * so the answer reaches the client cleanly; a sender of more than `drainLimit` further bytes is cut off.
 * @param {import('node:http').IncomingMessage} req
 * @param {{ maxBytes: number, drainLimit?: number, drainTimeoutMs?: number }} opts
 * @returns {Promise<Buffer>}
 */
export function readBody(req, { maxBytes, drainLimit = Math.max(4 * maxBytes, 64 * 1024 * 1024), drainTimeoutMs = 10_000 }) {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    /** @type {Buffer[]} */
    const chunks = [];
    let bytes = 0;
    let settled = false;

    const discardRest = () => {
      req.off('data', onData);
      let drained = 0;
      const timer = setTimeout(() => req.socket?.destroy(), drainTimeoutMs);
      timer.unref?.();
      req.on('data', (/** @type {Buffer} */ chunk) => {
        drained += chunk.length;
        if (drained > drainLimit) req.socket?.destroy();
      });
      req.once('end', () => clearTimeout(timer));
      req.once('close', () => clearTimeout(timer));
      req.resume();
    };
    const tooLarge = () => {
      settled = true;
      discardRest();
      reject(new HttpError(413, `request body exceeds ${maxBytes} bytes`, { bytes }));
    };
    /** @param {Buffer} chunk */
    const onData = (chunk) => {
      if (settled) return;
      bytes += chunk.length;
      if (bytes > maxBytes) return tooLarge();
      chunks.push(chunk);
    };

    if (Number.isFinite(declared) && declared > maxBytes) return tooLarge();
    req.on('data', onData);
    req.once('end', () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks, bytes));
    });
    req.once('error', (err) => {
      if (settled) return;
      settled = true;
      reject(new HttpError(400, `request aborted: ${err.message}`, { bytes }));
    });
    req.once('close', () => {
      if (settled) return;
      settled = true;
      reject(new HttpError(400, 'request aborted by the client', { bytes }));
    });
  });
}

/**
 * Decodes a body by its Content-Encoding with a bounded output: `identity`, `gzip`/`x-gzip`, `deflate`, `br`.
 * Output over `maxInflatedBytes` (a compression bomb) → HttpError(413); corrupt data → 400; another encoding → 415.
 * @param {Buffer} raw
 * @param {string | undefined} contentEncoding
 * @param {{ maxInflatedBytes: number }} opts
 * @returns {Promise<Buffer>}
 */
export async function decodeBody(raw, contentEncoding, { maxInflatedBytes }) {
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return raw;
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip' ? gunzip : encoding === 'deflate' ? inflate : encoding === 'br' ? brotli : null;
  if (!decoder) throw new HttpError(415, `unsupported content-encoding '${encoding}' (use gzip or none)`);
  try {
    return await decoder(raw, { maxOutputLength: maxInflatedBytes });
  } catch (err) {
    const e = /** @type {NodeJS.ErrnoException} */ (err);
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new HttpError(413, `decoded body exceeds ${maxInflatedBytes} bytes`, { bytes: raw.length });
    }
    throw new HttpError(400, `invalid ${encoding} body: ${e.message}`, { bytes: raw.length });
  }
}

/** Media types accepted for ingestion bodies (a missing Content-Type is accepted too). */
export const ACCEPTED_MEDIA_TYPES = ['application/json', 'text/plain'];

/**
 * Turns a decoded body into JSON: checks the Content-Type (415), decodes UTF-8 (a BOM is skipped) and parses
 * (400 on invalid JSON).
 * @param {Buffer} body
 * @param {string | undefined} contentType
 * @returns {unknown}
 */
export function parseJsonBody(body, contentType) {
  const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (mediaType !== '' && !ACCEPTED_MEDIA_TYPES.includes(mediaType)) {
    throw new HttpError(415, `unsupported content-type '${mediaType}' (use application/json or text/plain)`);
  }
  let text = body.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `invalid JSON: ${/** @type {Error} */ (err).message}`);
  }
}

// Writing HTTP answers.

/**
 * Answers with a JSON body (`Content-Type: application/json`), unless the socket is already gone.
 * @param {import('node:http').ServerResponse} res
 * @param {number} status
 * @param {unknown} body
 * @param {Record<string, string>} [headers]
 */
export function sendJson(res, status, body, headers = {}) {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
  });
  res.end(text);
}

/**
 * Answers without a body (e.g. 204), or with a short text body.
 * @param {import('node:http').ServerResponse} res
 * @param {number} status
 * @param {Record<string, string>} [headers]
 * @param {string} [text]
 */
export function sendText(res, status, headers = {}, text = '') {
  if (res.headersSent || res.destroyed) return;
  /** @type {Record<string, string>} */
  const h = { ...headers, 'cache-control': 'no-store' };
  if (text) {
    h['content-type'] = 'text/plain; charset=utf-8';
    h['content-length'] = String(Buffer.byteLength(text));
  }
  res.writeHead(status, h);
  res.end(text || undefined);
}

// CORS headers for the ingestion and control routes.

const ALLOWED_HEADERS = ['content-type', 'authorization', 'content-encoding'];
const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/**
 * CORS headers for a request: when an Origin is present and allowed (`allowedOrigins` null → any), it is
 * echoed with credentials allowed. Headers a preflight asks for are allowed too, so custom client headers work.
 * @param {import('node:http').IncomingHttpHeaders} headers
 * @param {Iterable<string> | null} allowedOrigins
 * @returns {Record<string, string>} empty when there is no allowed Origin
 */
export function corsHeaders(headers, allowedOrigins) {
  const origin = headers.origin;
  if (!origin) return {};
  if (allowedOrigins != null && ![...allowedOrigins].includes(origin)) return {};
  const requested = String(headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h && HEADER_TOKEN.test(h));
  const allowHeaders = [...new Set([...ALLOWED_HEADERS, ...requested])];
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-credentials': 'true',
    vary: 'Origin',
    'access-control-allow-methods': 'POST, GET, OPTIONS',
    'access-control-allow-headers': allowHeaders.join(', '),
    'access-control-expose-headers': 'retry-after',
    'access-control-max-age': '600',
  };
}

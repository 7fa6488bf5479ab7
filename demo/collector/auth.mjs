// Finding the public key of an ingestion request.

/** @typedef {'bearer' | 'basic' | 'query' | 'none'} AuthKind */

/**
 * Finds the public key: `Authorization: Bearer <pk>`, `Authorization: Basic base64(pk:sk)`, else `?pk=`.
 * @param {import('node:http').IncomingHttpHeaders} headers
 * @param {URL} url
 * @returns {{ auth: AuthKind, publicKey: string | null }}
 */
export function extractKey(headers, url) {
  const header = (headers.authorization ?? '').trim();
  const match = /^(\w+)\s+(.+)$/.exec(header);
  if (match) {
    const scheme = match[1].toLowerCase();
    const value = match[2].trim();
    if (scheme === 'bearer' && value) return { auth: 'bearer', publicKey: value };
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const pk = colon === -1 ? decoded : decoded.slice(0, colon);
      if (pk) return { auth: 'basic', publicKey: pk };
    }
  }
  const pk = url.searchParams.get('pk');
  if (pk) return { auth: 'query', publicKey: pk };
  return { auth: 'none', publicKey: null };
}

/**
 * Whether a key may ingest: any key (or none) when `publicKeys` is null, else only a listed key.
 * @param {string | null} publicKey
 * @param {Iterable<string> | null} publicKeys
 * @returns {boolean}
 */
export function isKeyAllowed(publicKey, publicKeys) {
  if (publicKeys == null) return true;
  if (publicKey == null) return false;
  for (const key of publicKeys) if (key === publicKey) return true;
  return false;
}

/**
 * Reads only the `Authorization` header, as Langfuse does: `Basic base64(pk:sk)` → project access,
 * `Bearer <pk>` → scores only. Anything else (no header, junk, an empty key) is `none`.
 * @param {import('node:http').IncomingHttpHeaders} headers
 * @returns {{ auth: 'basic', publicKey: string, secretKey: string } | { auth: 'bearer', publicKey: string, secretKey: null }
 *   | { auth: 'none', publicKey: null, secretKey: null }}
 */
export function readAuthorization(headers) {
  const header = (headers.authorization ?? '').trim();
  const match = /^(\w+)\s+(.+)$/.exec(header);
  if (match) {
    const scheme = match[1].toLowerCase();
    const value = match[2].trim();
    if (scheme === 'bearer' && value) return { auth: 'bearer', publicKey: value, secretKey: null };
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0 && colon < decoded.length - 1) {
        return { auth: 'basic', publicKey: decoded.slice(0, colon), secretKey: decoded.slice(colon + 1) };
      }
    }
  }
  return { auth: 'none', publicKey: null, secretKey: null };
}

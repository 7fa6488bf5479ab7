/** The public key a page presented, or why it is refused: 401 (none, or unknown) or 403 (a secret key). */
export type KeyDecision =
  | { ok: true; publicKey: string }
  | { ok: false; status: 401 | 403; reason: 'no-key' | 'unknown-key' | 'secret-key'; message: string };

const SECRET =
  'a secret key was presented: never ship the Langfuse secret key (sk-lf-…) to a page — it gives full project access; ' +
  'the relay holds it, pages send only a public key';

const looksSecret = (key: string) => /^sk-lf-/i.test(key.trim());

/**
 * Reads the page's key from `Authorization: Bearer <pk>` (fetch) or `?pk=` (beacons, which cannot set headers) and
 * checks it against the allowed public keys. A secret key in any form (Bearer sk-…, Basic pk:sk, ?sk=, ?pk=sk-…) is
 * refused 403 so the mistake is loud.
 */
export function checkKey(request: Request, url: URL, publicKeys: readonly string[], secretKeys: readonly string[] = []): KeyDecision {
  const header = request.headers.get('Authorization')?.trim() ?? '';
  let key: string | undefined;
  if (header !== '') {
    const [scheme = '', ...rest] = header.split(/\s+/);
    const value = rest.join(' ');
    if (/^bearer$/i.test(scheme)) key = value;
    else if (/^basic$/i.test(scheme)) {
      let decoded = '';
      try {
        decoded = decodeURIComponent(escape(atob(value)));
      } catch {
        return { ok: false, status: 401, reason: 'no-key', message: 'the Authorization header is not valid Basic credentials' };
      }
      const colon = decoded.indexOf(':');
      const secret = colon < 0 ? '' : decoded.slice(colon + 1);
      if (secret !== '') return { ok: false, status: 403, reason: 'secret-key', message: SECRET };
      key = colon < 0 ? decoded : decoded.slice(0, colon);
    } else return { ok: false, status: 401, reason: 'no-key', message: 'the Authorization header must be "Bearer <public key>"' };
  }
  if (url.searchParams.has('sk') || url.searchParams.has('secretKey')) return { ok: false, status: 403, reason: 'secret-key', message: SECRET };
  key ??= url.searchParams.get('pk') ?? undefined;
  if (key === undefined || key === '') return { ok: false, status: 401, reason: 'no-key', message: 'no public key: send "Authorization: Bearer <public key>" or ?pk=' };
  if (looksSecret(key) || secretKeys.includes(key)) return { ok: false, status: 403, reason: 'secret-key', message: SECRET };
  if (!publicKeys.includes(key)) return { ok: false, status: 401, reason: 'unknown-key', message: 'unknown public key' };
  return { ok: true, publicKey: key };
}

/** Which origins may send, and the CORS headers every answer to them carries. */
export interface CorsPolicy {
  /** Exact origins; undefined means the request URL's own origin only. */
  allowOrigins?: string[];
  allowNoOrigin: boolean;
}

/** The origin decision for one request: allowed (with the origin to echo, if any) or refused with a reason. */
export type OriginDecision = { ok: true; origin?: string } | { ok: false; message: string };

export function checkOrigin(request: Request, url: URL, policy: CorsPolicy): OriginDecision {
  const origin = request.headers.get('Origin');
  if (origin === null || origin === '') {
    return policy.allowNoOrigin ? { ok: true } : { ok: false, message: 'requests without an Origin header are refused (allowNoOrigin is off)' };
  }
  const allowed = policy.allowOrigins ?? [url.origin];
  if (allowed.includes(origin)) return { ok: true, origin };
  return { ok: false, message: `origin ${origin.slice(0, 200)} is not allowed` };
}

/** Headers for an answer to an allowed origin: the echoed origin and Retry-After readable by the page. */
export function corsHeaders(origin: string | undefined): Record<string, string> {
  if (origin === undefined) return {};
  return { 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': 'Retry-After', Vary: 'Origin' };
}

/** A token list (`content-type, authorization`) kept only if it is one; anything else is not reflected. */
const HEADER_LIST = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$/;

/** The 204 answer to a preflight from an allowed origin: methods, the requested headers reflected, a day of Max-Age. */
export function preflightHeaders(request: Request, origin: string | undefined): Record<string, string> {
  const requested = (request.headers.get('Access-Control-Request-Headers') ?? '').trim();
  return {
    ...corsHeaders(origin),
    'Access-Control-Allow-Methods': 'POST, OPTIONS',
    'Access-Control-Allow-Headers': requested !== '' && requested.length <= 1000 && HEADER_LIST.test(requested) ? requested : 'Content-Type, Authorization, Content-Encoding',
    'Access-Control-Max-Age': '86400',
    Vary: 'Origin, Access-Control-Request-Headers',
  };
}

// Admitting a request: may it in (origin and CORS, path, method, configuration, key, rate, Content-Type, body size
// and encoding), and what are its records. Everything here answers before anything is forwarded.
import { answer } from './answers';
import { upstreamFromEnv, type RelayContext, type ResolvedRelayOptions, type UpstreamOptions } from './options';
import { parseReceiptQuery, RECEIPTS_PATH, type ReceiptQuery } from './receipts';
import { parseRecords, type Records } from './records';
import type { RejectReason, Tell } from './stats';
import { PATHS, type RelayWire } from './upstream';

/** The paths the relay serves: Langfuse's two, forwarded, and the receipts query, answered here. */
const ROUTES: Record<RelayWire | 'receipts', string> = { ...PATHS, receipts: RECEIPTS_PATH };

/** A request that passed every check: its valid records, where they go, and how to answer. */
export interface Admitted {
  records: Records;
  upstream: UpstreamOptions;
  /** Sent as `text/plain` (or untyped), as sendBeacon does: nobody reads the answer. */
  beacon: boolean;
  cors: Record<string, string>;
}

/** A receipts query that passed every check (the same ones as records, but the body is a query). */
export interface AdmittedQuery {
  query: ReceiptQuery;
  cors: Record<string, string>;
}

/**
 * The request pipeline: origin, path, method, configuration, key, rate, Content-Type, body and records, in that
 * order, each refusal counted. Resolves an early answer (`{ response }`) or the admitted records. `setCors` learns
 * the CORS headers as soon as they are known, so an internal error can still answer the page.
 */
export function createAdmit(o: ResolvedRelayOptions, tell: Tell) {
  const { reject, report } = tell;
  const upstreamFor = createUpstreamFor(o.upstream);
  const limiter = o.rateLimit ? createRateLimiter(o.rateLimit, o.now) : undefined;
  const reportedConfig = new Set<string>();

  return async function admit(request: Request, env: unknown, ctx: RelayContext | undefined, setCors: (h: Record<string, string>) => void): Promise<{ response: Response } | Admitted | AdmittedQuery> {
    const url = new URL(request.url);
    const origin = checkOrigin(request, url, { allowOrigins: o.allowOrigins, allowNoOrigin: o.allowNoOrigin });
    const cors = origin.ok ? corsHeaders(origin.origin) : {};
    setCors(cors);
    const wire = (Object.keys(ROUTES) as (keyof typeof ROUTES)[]).find((w) =>
      o.basePath !== undefined ? url.pathname === o.basePath + ROUTES[w] : url.pathname.endsWith(ROUTES[w]),
    );
    const refuse = (reason: RejectReason, status: number, message: string, headers = cors) => {
      reject(reason);
      return { response: answer(status, { message }, headers) };
    };
    if (!origin.ok) return refuse('origin', 403, origin.message);
    if (wire === undefined) return refuse('not-found', 404, `not found: the relay serves …${PATHS.otlp}, …${PATHS.ingestion} and …${RECEIPTS_PATH}`);
    if (request.method === 'OPTIONS') return { response: new Response(null, { status: 204, headers: preflightHeaders(request, origin.origin) }) };
    if (request.method !== 'POST') return refuse('method', 405, 'only POST', { ...cors, Allow: 'POST, OPTIONS' });
    const upstream = upstreamFor(env);
    if (upstream === undefined || upstream instanceof Error) {
      reject('config');
      const message = upstream?.message ?? 'relay: no upstream (pass upstream or set LANGFUSE_BASE_URL, LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY)';
      if (!reportedConfig.has(message)) {
        reportedConfig.add(message);
        report(new Error(message));
      }
      return {
        response: answer(
          503,
          { message: 'the relay is not configured: set LANGFUSE_BASE_URL, LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY where it runs, or pass createRelay({ upstream })' },
          { ...cors, 'Retry-After': '60' },
        ),
      };
    }
    const key = checkKey(request, url, o.publicKeys ?? [upstream.publicKey], [upstream.secretKey]);
    if (!key.ok) return refuse(key.reason, key.status, key.message);
    const wait = limiter?.take(`${o.clientIp(request, ctx)}|${key.publicKey}`);
    if (wait !== undefined) return refuse('rate-limited', 429, `rate limited: retry in ${wait} s`, { ...cors, 'Retry-After': String(wait) });
    const type = (request.headers.get('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json' && type !== 'text/plain' && type !== '') {
      return refuse('content-type', 415, `Content-Type ${type.slice(0, 60)} is not supported: send application/json (or text/plain from sendBeacon)`);
    }
    const body = await readBody(request, o.maxBodyBytes);
    if (!('text' in body)) return refuse(body.status === 413 ? 'too-large' : body.status === 415 ? 'content-type' : 'bad-body', body.status, body.message);
    let json: unknown;
    try {
      json = JSON.parse(body.text);
    } catch {
      return refuse('bad-json', 400, 'the body is not valid JSON');
    }
    if (wire === 'receipts') {
      const query = parseReceiptQuery(json);
      return 'message' in query ? refuse('invalid', 400, query.message) : { query, cors };
    }
    const records = parseRecords(wire, json, o);
    if ('message' in records) return refuse('invalid', 400, records.message);
    if (records.errors.length > 0) reject('invalid-event', records.errors.length);
    return { records, upstream, beacon: type !== 'application/json', cors };
  };
}

// ── Which upstream ──

/**
 * The upstream of a request: the `upstream` option (trailing slashes trimmed), else the one in this env (read once
 * per env object), else the one in `process.env`; an Error names what is bad, undefined means none is set.
 */
function createUpstreamFor(upstream: UpstreamOptions | undefined): (env: unknown) => UpstreamOptions | Error | undefined {
  const processEnv = (globalThis as { process?: { env?: unknown } }).process?.env;
  const fixed = upstream ? { ...upstream, baseUrl: upstream.baseUrl.replace(/\/+$/, '') } : undefined;
  const fromEnv = new WeakMap<object, UpstreamOptions | Error | undefined>();
  return (env) => {
    if (fixed) return fixed;
    if (env && typeof env === 'object') {
      if (!fromEnv.has(env)) fromEnv.set(env, upstreamFromEnv(env));
      const found = fromEnv.get(env);
      if (found !== undefined) return found;
    }
    return upstreamFromEnv(processEnv);
  };
}

// ── Origin and CORS ──

/** Which origins may send, and the CORS headers every answer to them carries. */
interface CorsPolicy {
  /** Exact origins; undefined means the request URL's own origin only. */
  allowOrigins?: string[];
  allowNoOrigin: boolean;
}

/** The origin decision for one request: allowed (with the origin to echo, if any) or refused with a reason. */
type OriginDecision = { ok: true; origin?: string } | { ok: false; message: string };

function checkOrigin(request: Request, url: URL, policy: CorsPolicy): OriginDecision {
  const origin = request.headers.get('Origin');
  if (origin === null || origin === '') {
    return policy.allowNoOrigin ? { ok: true } : { ok: false, message: 'requests without an Origin header are refused (allowNoOrigin is off)' };
  }
  const allowed = policy.allowOrigins ?? [url.origin];
  if (allowed.includes(origin)) return { ok: true, origin };
  return { ok: false, message: `origin ${origin.slice(0, 200)} is not allowed` };
}

/** Headers for an answer to an allowed origin: the echoed origin and Retry-After readable by the page. */
function corsHeaders(origin: string | undefined): Record<string, string> {
  if (origin === undefined) return {};
  return { 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': 'Retry-After', Vary: 'Origin' };
}

/** A token list (`content-type, authorization`) kept only if it is one; anything else is not reflected. */
const HEADER_LIST = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$/;

/** The 204 answer to a preflight from an allowed origin: methods, the requested headers reflected, a day of Max-Age. */
function preflightHeaders(request: Request, origin: string | undefined): Record<string, string> {
  const requested = (request.headers.get('Access-Control-Request-Headers') ?? '').trim();
  return {
    ...corsHeaders(origin),
    'Access-Control-Allow-Methods': 'POST, OPTIONS',
    'Access-Control-Allow-Headers': requested !== '' && requested.length <= 1000 && HEADER_LIST.test(requested) ? requested : 'Content-Type, Authorization, Content-Encoding',
    'Access-Control-Max-Age': '86400',
    Vary: 'Origin, Access-Control-Request-Headers',
  };
}

// ── The page's key ──

/** The public key a page presented, or why it is refused: 401 (none, or unknown) or 403 (a secret key). */
type KeyDecision =
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
function checkKey(request: Request, url: URL, publicKeys: readonly string[], secretKeys: readonly string[] = []): KeyDecision {
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

// ── Rate ──

/**
 * Token buckets per client (IP + public key): `burst` tokens, refilled at `requestsPerMinute`. At most
 * `maxClients` buckets are kept; the least recently used goes first (a forgotten client starts full again).
 */
interface RateLimiter {
  /** Takes a token: undefined when allowed, else the whole seconds until one is available (for Retry-After). */
  take(client: string): number | undefined;
}

export function createRateLimiter(
  config: { requestsPerMinute: number; burst: number; maxClients: number },
  now: () => number,
): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const perMs = config.requestsPerMinute / 60_000;
  return {
    take(client) {
      const t = now();
      const bucket = buckets.get(client) ?? { tokens: config.burst, at: t };
      buckets.delete(client);
      bucket.tokens = Math.min(config.burst, bucket.tokens + Math.max(0, t - bucket.at) * perMs);
      bucket.at = t;
      buckets.set(client, bucket);
      if (buckets.size > config.maxClients) buckets.delete(buckets.keys().next().value as string);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return undefined;
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
    },
  };
}

// ── Body ──

/** Why a body could not be read: too large (413), an encoding we cannot undo (415), or a broken gzip stream (400). */
type BodyProblem = { status: 400 | 413 | 415; message: string };

/**
 * Reads a request body as text, at most `maxBytes` on the wire and — for `Content-Encoding: gzip` — at most
 * `maxBytes` after inflation too (DecompressionStream, counted chunk by chunk, so a small bomb stops early).
 */
export async function readBody(request: Request, maxBytes: number): Promise<{ text: string } | BodyProblem> {
  const declared = Number(request.headers.get('Content-Length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) return tooLarge(maxBytes);
  const encoding = (request.headers.get('Content-Encoding') ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip') {
    return { status: 415, message: `Content-Encoding "${encoding.slice(0, 40)}" is not supported: send gzip or none` };
  }
  if (request.body === null) return { text: '' };
  let stream: ReadableStream<Uint8Array> = request.body.pipeThrough(limit(maxBytes));
  if (encoding === 'gzip') {
    if (typeof DecompressionStream !== 'function') return { status: 415, message: 'gzip bodies are not supported on this platform' };
    stream = stream.pipeThrough(new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>).pipeThrough(limit(maxBytes));
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    if (error instanceof TooLarge) return tooLarge(maxBytes);
    return { status: 400, message: encoding === 'gzip' ? 'the body is not valid gzip' : 'the body could not be read' };
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes) };
  } catch {
    return { status: 400, message: 'the body is not valid UTF-8' };
  }
}

class TooLarge extends Error {}

function tooLarge(maxBytes: number): BodyProblem {
  return { status: 413, message: `the body is larger than ${maxBytes} bytes (before or after gzip): send smaller batches` };
}

/** A pass-through stream that errors once more than `maxBytes` went through it. */
function limit(maxBytes: number): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0;
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > maxBytes) controller.error(new TooLarge());
      else controller.enqueue(chunk);
    },
  });
}

import { checkKey } from './auth';
import { readBody } from './body';
import { checkOrigin, corsHeaders, preflightHeaders } from './cors';
import { answer } from './answers';
import type { Report } from './log';
import type { RelayContext, ResolvedRelayOptions, UpstreamOptions } from './options';
import type { RateLimiter } from './rate-limit';
import { parseRecords, type Records } from './records';
import type { Reject } from './stats';
import { PATHS, type RelayWire } from './upstream';

/** A request that passed every check: its valid records, where they go, and how to answer. */
export interface Admitted {
  records: Records;
  upstream: UpstreamOptions;
  /** Sent as `text/plain` (or untyped), as sendBeacon does: nobody reads the answer. */
  beacon: boolean;
  cors: Record<string, string>;
}

type Parts = { o: ResolvedRelayOptions; reject: Reject; report: Report; upstreamFor: (env: unknown) => UpstreamOptions | Error | undefined; limiter?: RateLimiter };

/**
 * The request pipeline: origin, path, method, configuration, key, rate, Content-Type, body and records, in that
 * order, each refusal counted. Resolves an early answer (`{ response }`) or the admitted records. `setCors` learns
 * the CORS headers as soon as they are known, so an internal error can still answer the page.
 */
export function createAdmit(parts: Parts) {
  const { o, reject, report, upstreamFor, limiter } = parts;
  const reportedConfig = new Set<string>();

  return async function admit(request: Request, env: unknown, ctx: RelayContext | undefined, setCors: (h: Record<string, string>) => void): Promise<{ response: Response } | Admitted> {
    const url = new URL(request.url);
    const origin = checkOrigin(request, url, { allowOrigins: o.allowOrigins, allowNoOrigin: o.allowNoOrigin });
    const cors = origin.ok ? corsHeaders(origin.origin) : {};
    setCors(cors);
    const wire = (Object.keys(PATHS) as RelayWire[]).find((w) =>
      o.basePath !== undefined ? url.pathname === o.basePath + PATHS[w] : url.pathname.endsWith(PATHS[w]),
    );
    const refuse = (reason: Parameters<Reject>[0], status: number, message: string, headers = cors) => {
      reject(reason);
      return { response: answer(status, { message }, headers) };
    };
    if (!origin.ok) return refuse('origin', 403, origin.message);
    if (wire === undefined) return refuse('not-found', 404, `not found: the relay serves …${PATHS.otlp} and …${PATHS.ingestion}`);
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
    const records = parseRecords(wire, json, o);
    if ('message' in records) return refuse('invalid', 400, records.message);
    if (records.errors.length > 0) reject('invalid-event', records.errors.length);
    return { records, upstream, beacon: type !== 'application/json', cors };
  };
}

import { nextRetry } from '../core/retry';
import { checkKey } from './auth';
import { readBody } from './body';
import { checkOrigin, corsHeaders, preflightHeaders } from './cors';
import { createDedupWindow } from './dedup';
import { byteLength } from './issues';
import { answer, answerDelivery } from './answers';
import type { EventError } from './ingestion';
import { resolveRelayOptions, upstreamFromEnv, type QueueProducer, type RelayContext, type RelayOptions, type UpstreamOptions } from './options';
import { enqueue, QUEUE_LIMITS } from './queue';
import { createRateLimiter } from './rate-limit';
import { EVENT_KEY, parseRecords, type Records } from './records';
import { deliver, PATHS, type Delivery, type RelayWire } from './upstream';

/** Why the relay refused something; request-level reasons count requests, `invalid-event` counts events. */
export type RejectReason =
  | 'not-found' | 'method' | 'origin' | 'no-key' | 'unknown-key' | 'secret-key' | 'rate-limited' | 'content-type'
  | 'too-large' | 'bad-body' | 'bad-json' | 'invalid' | 'invalid-event' | 'upstream-rejected' | 'config' | 'internal';

/** Counters of a relay since it was created. Records are spans (OTLP) and events (ingestion). */
export interface RelayStats {
  /** Requests answered (preflights included). */
  requests: number;
  /** Valid records received (duplicates included). */
  received: number;
  /** Records the upstream took. */
  forwarded: number;
  /** Records acknowledged without forwarding because the window had them (or they repeated inside one request). */
  duplicates: number;
  /** Records handed to the queue (`queue` option). */
  queued: number;
  rejected: Partial<Record<RejectReason, number>>;
  /** Upstream attempts that failed with 408/429/5xx, a timeout or a network error. */
  upstreamFailures: number;
  /** Forwardings answered 429 by the relay itself while the upstream's Retry-After ran (nothing sent upstream). */
  heldBack: number;
  /** Beacon deliveries still running in the background. */
  background: number;
  /** Beacon records given up after the background retry budget (reported to onError). */
  beaconGaveUp: number;
}

/** A fetch handler (`export default { fetch: relay }`) with its counters and a way to await background work. */
export type Relay = ((request: Request, env?: unknown, ctx?: RelayContext) => Promise<Response>) & {
  stats(): RelayStats;
  /** Resolves once every background (beacon) delivery started so far has finished. */
  idle(): Promise<void>;
};

/**
 * Creates the relay: a fetch handler that serves Langfuse's OTLP and ingestion paths to pages, checks origin,
 * key, rate, size and every record, forwards with the secret key, and answers with what the upstream (or the
 * queue) accepted. Throws RelayOptionsError for invalid options; the handler itself never throws.
 */
export function createRelay(options: RelayOptions): Relay {
  const o = resolveRelayOptions(options);
  const processEnv = (globalThis as { process?: { env?: unknown } }).process?.env;
  const fixed = o.upstream ? { ...o.upstream, baseUrl: o.upstream.baseUrl.replace(/\/+$/, '') } : undefined;
  const fromEnv = new WeakMap<object, UpstreamOptions | Error | undefined>();
  const dedup = createDedupWindow(o.dedupWindow.maxIds, o.dedupWindow.ttlMs, o.now);
  const limiter = o.rateLimit ? createRateLimiter(o.rateLimit, o.now) : undefined;
  /** Keys being forwarded right now → settles when that forwarding is over (a resend waits instead of racing). */
  const inflight = new Map<string, Promise<void>>();
  const background = new Set<Promise<void>>();
  const counts = { requests: 0, received: 0, forwarded: 0, duplicates: 0, queued: 0, upstreamFailures: 0, heldBack: 0, beaconGaveUp: 0 };
  const rejected: Partial<Record<RejectReason, number>> = {};
  const reportedConfig = new Set<string>();
  /** Epoch ms before which nothing is forwarded: the upstream answered 429 with Retry-After. */
  let holdUntil = 0;

  const log = (message: string) => {
    if (o.debug) console.debug(`[outbox relay] ${message}`);
  };
  const report = (error: unknown) => {
    const e = error instanceof Error ? error : new Error(String(error));
    log(`error: ${e.message}`);
    try {
      o.onError?.(e);
    } catch {
      /* the host's handler failed: nothing more to do */
    }
  };
  const reject = (reason: RejectReason, n = 1) => {
    rejected[reason] = (rejected[reason] ?? 0) + n;
  };

  function upstreamFor(env: unknown): UpstreamOptions | Error | undefined {
    if (fixed) return fixed;
    if (env && typeof env === 'object') {
      if (!fromEnv.has(env)) fromEnv.set(env, upstreamFromEnv(env));
      const found = fromEnv.get(env);
      if (found !== undefined) return found;
    }
    return upstreamFromEnv(processEnv);
  }

  const relay = async (request: Request, env?: unknown, ctx?: RelayContext): Promise<Response> => {
    counts.requests++;
    let cors: Record<string, string> = {};
    try {
      return await serve(request, env, ctx, (headers) => (cors = headers));
    } catch (error) {
      reject('internal');
      report(error);
      return answer(500, { message: 'internal relay error' }, cors);
    }
  };

  async function serve(request: Request, env: unknown, ctx: RelayContext | undefined, setCors: (h: Record<string, string>) => void): Promise<Response> {
    const url = new URL(request.url);
    const origin = checkOrigin(request, url, { allowOrigins: o.allowOrigins, allowNoOrigin: o.allowNoOrigin });
    const cors = origin.ok ? corsHeaders(origin.origin) : {};
    setCors(cors);
    const wire = (Object.keys(PATHS) as RelayWire[]).find((w) =>
      o.basePath !== undefined ? url.pathname === o.basePath + PATHS[w] : url.pathname.endsWith(PATHS[w]),
    );
    if (!origin.ok) {
      reject('origin');
      return answer(403, { message: origin.message }, cors);
    }
    if (wire === undefined) {
      reject('not-found');
      return answer(404, { message: `not found: the relay serves …${PATHS.otlp} and …${PATHS.ingestion}` }, cors);
    }
    if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: preflightHeaders(request, origin.origin) });
    if (request.method !== 'POST') {
      reject('method');
      return answer(405, { message: 'only POST' }, { ...cors, Allow: 'POST, OPTIONS' });
    }
    const upstream = upstreamFor(env);
    if (upstream === undefined || upstream instanceof Error) {
      reject('config');
      const message = upstream?.message ?? 'relay: no upstream (pass upstream or set LANGFUSE_BASE_URL, LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY)';
      if (!reportedConfig.has(message)) {
        reportedConfig.add(message);
        report(new Error(message));
      }
      return answer(503, { message: 'the relay is not configured' }, { ...cors, 'Retry-After': '60' });
    }
    const key = checkKey(request, url, o.publicKeys ?? [upstream.publicKey], [upstream.secretKey]);
    if (!key.ok) {
      reject(key.reason);
      return answer(key.status, { message: key.message }, cors);
    }
    if (limiter) {
      const wait = limiter.take(`${o.clientIp(request, ctx)}|${key.publicKey}`);
      if (wait !== undefined) {
        reject('rate-limited');
        return answer(429, { message: `rate limited: retry in ${wait} s` }, { ...cors, 'Retry-After': String(wait) });
      }
    }
    const type = (request.headers.get('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json' && type !== 'text/plain' && type !== '') {
      reject('content-type');
      return answer(415, { message: `Content-Type ${type.slice(0, 60)} is not supported: send application/json (or text/plain from sendBeacon)` }, cors);
    }
    const beacon = type !== 'application/json';
    const body = await readBody(request, o.maxBodyBytes);
    if (!('text' in body)) {
      reject(body.status === 413 ? 'too-large' : body.status === 415 ? 'content-type' : 'bad-body');
      return answer(body.status, { message: body.message }, cors);
    }
    let json: unknown;
    try {
      json = JSON.parse(body.text);
    } catch {
      reject('bad-json');
      return answer(400, { message: 'the body is not valid JSON' }, cors);
    }
    const records = parseRecords(wire, json, o);
    if ('message' in records) {
      reject('invalid');
      return answer(400, { message: records.message }, cors);
    }
    if (records.errors.length > 0) reject('invalid-event', records.errors.length);
    return forward(records, upstream, o.queueFor(env), beacon, ctx, cors);
  }

  async function forward(records: Records, upstream: UpstreamOptions, queue: QueueProducer | undefined, beacon: boolean, ctx: RelayContext | undefined, cors: Record<string, string>): Promise<Response> {
    const unique = [...new Set(records.keys)];
    counts.received += records.keys.length;
    // Wait (three rounds at most) for forwardings of the same keys already under way, so a resend does not race
    // its original. No await between the last check and the reservation below: the check and the claim are one step.
    for (let round = 0; round < 3; round++) {
      const pending = new Set<Promise<void>>();
      for (const k of unique) {
        const p = inflight.get(k);
        if (p) pending.add(p);
      }
      if (pending.size === 0) break;
      await Promise.all(pending);
    }
    // A key still in flight after the wait is forwarded again: a possible duplicate upstream, never a loss.
    const fresh = unique.filter((k) => !dedup.has(k));
    const freshSet = new Set(fresh);
    const seen = unique.filter((k) => !freshSet.has(k));
    const duplicates = records.keys.length - fresh.length;
    counts.duplicates += duplicates;
    if (duplicates > 0) log(`${duplicates} duplicate record(s) acknowledged without forwarding`);
    const multi = (taken: string[], errors: EventError[], status = 201) =>
      answer(207, { successes: taken.map((k) => ({ id: records.idOf(k), status })), errors }, cors);
    const done = (extra: Record<string, string> = {}) =>
      records.wire === 'otlp' ? answer(200, { partialSuccess: {} }, { ...cors, ...extra }) : multi(seen, records.errors);
    if (fresh.length === 0) return done();

    // Reserve the fresh keys until this forwarding is over.
    let release!: () => void;
    const reservation = new Promise<void>((resolve) => (release = resolve));
    for (const k of fresh) inflight.set(k, reservation);
    const free = () => {
      for (const k of fresh) if (inflight.get(k) === reservation) inflight.delete(k);
      release();
    };
    const keep = freshSet;

    if (beacon) {
      // Nobody reads a beacon's answer: accept now, deliver in the background within a bounded budget.
      const task = deliverInBackground(records, keep, upstream, queue).catch(report).finally(free);
      background.add(task);
      void task.finally(() => background.delete(task));
      ctx?.waitUntil?.(task);
      return answer(202, { message: 'accepted' }, cors);
    }
    try {
      if (queue) {
        const chunks = records.chunk(keep, QUEUE_LIMITS.messageBytes);
        if (chunks !== undefined) {
          try {
            await enqueue(queue, records.wire, chunks.map((c) => ({ body: c.body, bytes: byteLength(c.body) })));
          } catch (error) {
            report(new Error(`queue.send failed: ${String((error as Error)?.message ?? error)}`));
            return answer(503, { message: 'the relay could not queue the records: retry later' }, { ...cors, 'Retry-After': String(o.retryAfterSeconds) });
          }
          dedup.remember(fresh);
          counts.queued += fresh.length;
          const queued = { 'Outbox-Queued': '1' };
          if (records.wire === 'otlp') return answer(202, { partialSuccess: {} }, { ...cors, ...queued });
          if (records.errors.length > 0) return multi([...fresh, ...seen], records.errors, 202);
          return answer(202, { successes: [...fresh, ...seen].map((k) => ({ id: records.idOf(k), status: 202 })), errors: [] }, { ...cors, ...queued });
        }
        log('a record is too large for a queue message: forwarding this request directly');
      }
      const delivery = await send(records, keep, upstream);
      return answerDelivery(delivery, records, fresh, seen, cors, o.retryAfterSeconds);
    } finally {
      free();
    }
  }

  /** One upstream attempt for the records in `keep`; remembers and counts what was taken. */
  async function send(records: Records, keep: ReadonlySet<string>, upstream: UpstreamOptions): Promise<Delivery> {
    const wait = holdUntil - o.now();
    if (wait > 0) {
      // The upstream asked everyone to wait (429 + Retry-After): answer from here instead of adding to its load.
      counts.heldBack++;
      return { kind: 'retry', status: 429, retryAfterMs: wait, message: 'holding off: the upstream asked to wait' };
    }
    const ids = records.wire === 'ingestion' ? [...keep].map(records.idOf) : [];
    const delivery = await deliver(records.wire, records.encode(keep), ids, { upstream, fetch: o.fetch, timeoutMs: o.upstreamTimeoutMs, now: o.now });
    switch (delivery.kind) {
      case 'ok':
        dedup.remember(keep);
        counts.forwarded += keep.size;
        break;
      case 'multi': {
        const taken = delivery.taken.map((id) => EVENT_KEY + id);
        dedup.remember(taken);
        counts.forwarded += taken.length;
        if (delivery.errors.length > 0) reject('upstream-rejected', delivery.errors.length);
        break;
      }
      case 'retry':
        counts.upstreamFailures++;
        // Langfuse's rate limit is per organization, for both routes: hold every request until Retry-After.
        if (delivery.status === 429 && delivery.retryAfterMs !== undefined) holdUntil = Math.max(holdUntil, o.now() + delivery.retryAfterMs);
        log(`upstream failure: ${delivery.message}`);
        if (delivery.status === 401 || delivery.status === 403) report(new Error(delivery.message));
        break;
      default:
        reject('upstream-rejected', keep.size);
        report(new Error(`upstream refused ${keep.size} record(s): ${delivery.message}`));
    }
    return delivery;
  }

  /** Delivers a beacon's records with retries, within `beaconRetry` (attempts and total time). */
  async function deliverInBackground(records: Records, keep: Set<string>, upstream: UpstreamOptions, queue: QueueProducer | undefined): Promise<void> {
    const policy = o.beaconRetry;
    const started = o.now();
    if (queue) {
      const chunks = records.chunk(keep, QUEUE_LIMITS.messageBytes);
      if (chunks !== undefined) {
        for (let attempt = 1; ; attempt++) {
          try {
            await enqueue(queue, records.wire, chunks.map((c) => ({ body: c.body, bytes: byteLength(c.body) })));
            dedup.remember(keep);
            counts.queued += keep.size;
            return;
          } catch (error) {
            if (attempt >= policy.maxAttempts || o.now() - started >= policy.budgetMs) {
              counts.beaconGaveUp += keep.size;
              report(new Error(`beacon: gave up queueing ${keep.size} record(s): ${String((error as Error)?.message ?? error)}`));
              return;
            }
            await o.sleep(Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1)));
          }
        }
      }
    }
    let left = new Set(keep);
    for (let attempt = 1; left.size > 0; attempt++) {
      const d = await send(records, left, upstream);
      let retryAfterMs: number | undefined;
      if (d.kind === 'ok') return;
      if (d.kind === 'multi') {
        left = new Set(d.retry.map((id) => EVENT_KEY + id));
        if (left.size === 0) return;
      } else if (d.kind === 'retry') retryAfterMs = d.retryAfterMs;
      else return; // refused for good: counted and reported by send()
      const decision = nextRetry({ attempts: attempt, failures: attempt, network: false, retryAfterMs, random: Math.random() }, policy);
      const elapsed = o.now() - started;
      if (decision === 'give-up' || elapsed + decision.delayMs > policy.budgetMs) {
        counts.beaconGaveUp += left.size;
        report(new Error(`beacon: gave up delivering ${left.size} record(s) after ${attempt} attempt(s): the upstream did not take them`));
        return;
      }
      await o.sleep(decision.delayMs);
    }
  }

  return Object.assign(relay, {
    stats: (): RelayStats => ({ ...counts, rejected: { ...rejected }, background: background.size }),
    idle: async () => {
      while (background.size > 0) await Promise.all([...background]);
    },
  });
}

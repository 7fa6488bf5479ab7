import { createAdmit } from './admit';
import { answer } from './answers';
import { createBackground } from './background';
import { createDeliverInBackground } from './beacon';
import { createClaims } from './claims';
import { createDedupWindow } from './dedup';
import { createSharedDedup } from './dedup-shared';
import { createForward } from './forward';
import { createLog } from './log';
import type { RelayContext, RelayOptions } from './options';
import { createRateLimiter } from './rate-limit';
import { resolveRelayOptions } from './options';
import { createSend } from './send';
import { createStats, type RelayStats } from './stats';
import { createUpstreamFor } from './upstream-for';

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
  const { count, reject, snapshot } = createStats();
  const { log, report } = createLog(o);
  const dedup = createDedupWindow(o.dedupWindow.maxIds, o.dedupWindow.ttlMs, o.now);
  const limiter = o.rateLimit ? createRateLimiter(o.rateLimit, o.now) : undefined;
  const background = createBackground();
  const admit = createAdmit({ o, reject, report, upstreamFor: createUpstreamFor(o.upstream), limiter });
  const send = createSend({ o, count, dedup, reject, report, log });
  const deliverInBackground = createDeliverInBackground({ o, count, dedup, report, send });
  const windowOn = o.dedupWindow.maxIds > 0 && o.dedupWindow.ttlMs > 0;
  const shared = createSharedDedup({ window: o.dedupWindow, shards: o.dedupShards, count, report, log, warn: o.onError === undefined });
  const forward = createForward({ o, count, dedup, claims: createClaims(dedup, shared), background, send, deliverInBackground, report, log });

  const relay = async (request: Request, env?: unknown, ctx?: RelayContext): Promise<Response> => {
    count('requests');
    let cors: Record<string, string> = {};
    try {
      const admitted = await admit(request, env, ctx, (headers) => (cors = headers));
      if ('response' in admitted) return admitted.response;
      const sharedWindow = windowOn ? o.dedupFor(env) : undefined;
      return await forward(admitted.records, admitted.upstream, o.queueFor(env), sharedWindow, admitted.beacon, ctx, admitted.cors);
    } catch (error) {
      reject('internal');
      report(error);
      return answer(500, { message: 'internal relay error' }, cors);
    }
  };

  return Object.assign(relay, {
    stats: (): RelayStats => snapshot(background.size),
    idle: () => background.idle(),
  });
}

import { createAdmit } from './admit';
import { answer } from './answers';
import { createClaims } from './dedup';
import { createForward } from './forward';
import { resolveRelayOptions, type RelayContext, type RelayOptions } from './options';
import { createReceipts } from './receipts';
import { createStats, type RelayStats } from './stats';

/** A fetch handler (`export default { fetch: relay }`) with its counters and a way to await background work. */
export type Relay = ((request: Request, env?: unknown, ctx?: RelayContext) => Promise<Response>) & {
  stats(): RelayStats;
  /** Resolves once every background (beacon) delivery started so far has finished. */
  idle(): Promise<void>;
};

/**
 * Creates the relay: a fetch handler that serves Langfuse's OTLP and ingestion paths to pages, checks origin,
 * key, rate, size and every record, forwards with the secret key, and answers with what the upstream (or the
 * queue) accepted; and the receipts query (`…/outbox/receipts`: which records it took, from its dedup windows).
 * Throws RelayOptionsError for invalid options; the handler itself never throws.
 */
export function createRelay(options: RelayOptions): Relay {
  const o = resolveRelayOptions(options);
  const tell = createStats(o);
  const admit = createAdmit(o, tell);
  const claims = createClaims(o, tell);
  const forwarding = createForward(o, tell, claims);
  const receipts = createReceipts(o, tell, claims);

  const relay = async (request: Request, env?: unknown, ctx?: RelayContext): Promise<Response> => {
    tell.count('requests');
    let cors: Record<string, string> = {};
    try {
      const admitted = await admit(request, env, ctx, (headers) => (cors = headers));
      if ('response' in admitted) return admitted.response;
      if ('query' in admitted) return await receipts(admitted.query, env, admitted.cors);
      return await forwarding.forward(admitted, env, ctx);
    } catch (error) {
      tell.reject('internal');
      tell.report(error);
      return answer(500, { message: 'internal relay error' }, cors);
    }
  };

  return Object.assign(relay, {
    stats: (): RelayStats => tell.snapshot(forwarding.background),
    idle: () => forwarding.idle(),
  });
}

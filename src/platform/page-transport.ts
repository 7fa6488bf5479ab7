import type { ResolvedOptions } from '../core/options';
import type { Transport } from '../core/types';
import { createFetchTransport } from '../transport/fetch';
import { documentBudget, type KeepaliveBudget } from '../transport/keepalive-budget';
import { documentReachability, type Reachability } from './reachability';

/**
 * The page's normal transport: the fetch transport, sending with `keepalive: true` whenever the body fits the
 * document's keepalive budget (shared with the unload path), so a request in flight when the page goes away
 * completes by itself and the unload path never has to send its records again; every answer feeds the page's
 * reachability (read by the unload path).
 */
export function createPageTransport(
  options: Pick<ResolvedOptions, 'requestTimeoutMs' | 'compression'>,
  parts: { budget?: KeepaliveBudget; reachability?: Reachability; fetch?: typeof fetch } = {},
): Transport {
  const budget = parts.budget ?? documentBudget();
  const reachability = parts.reachability ?? documentReachability();
  const inner = createFetchTransport({
    timeoutMs: options.requestTimeoutMs,
    compression: options.compression,
    fetch: parts.fetch,
    keepalive: (bytes) => budget.reserveForSend(bytes),
  });
  return {
    async send(batch) {
      const result = await inner.send(batch);
      reachability.note(result);
      return result;
    },
  };
}

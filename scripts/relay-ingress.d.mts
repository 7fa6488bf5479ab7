// Types of scripts/relay-ingress.mjs for the specs.
import type { IncomingMessage, ServerResponse } from 'node:http';
export interface Arrival {
  at: number;
  referer: string | null;
  request: { status: number; count: number };
}
export interface RelayIngress {
  listener: (req: IncomingMessage, res: ServerResponse) => void;
  /** Every arrival of each ingestion event id the relay answered as taken, before its dedup. */
  arrivals: Map<string, Arrival[]>;
  /** Receipts queries seen and the event ids they asked about. */
  queries: { asked: number; ids: number };
  stats(): Record<string, unknown>;
  count(id: string): number;
  reset(): void;
}
export declare function relayIngress(opts: { dist: string; options: (upstream: string) => Record<string, unknown>; upstream: () => string }): Promise<RelayIngress>;

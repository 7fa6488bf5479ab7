import type { StoredEvent } from '../core/types';
import type { KeepaliveBudget } from './keepalive-budget';
import type { Reachability } from './reachability';

/** What one unload send did, in records. */
export interface UnloadReport {
  /** Sent by keepalive fetch (answer pending). */
  keepalive: number;
  /** Handed to fetchLater. */
  fetchLater: number;
  /** Accepted by sendBeacon. */
  beacon: number;
  /** Left in the queue (and so kept in storage): did not fit. */
  kept: number;
  /** Requests made. */
  requests: number;
}

/** The sender's tools, fixed at creation: the accountant, the reachability tracker, clocks and ids. */
export interface UnloadTools {
  budget: KeepaliveBudget;
  reachability: Reachability;
  now: () => number;
  setTimeout: (fn: () => void, ms: number) => unknown;
  uuid: () => string;
}

/** What one `send()` carries from channel to channel; `refused` and `laterUsed` outlive it (until `reset()`). */
export interface UnloadState {
  report: UnloadReport;
  /** Transports that refused since the last reset(). */
  refused: { keepalive: boolean; fetchLater: boolean; beacon: boolean };
  /** fetchLater bytes (body + URL + headers) handed over by this sender. */
  laterUsed: { bytes: number };
  /** The collector looked unreachable when the send began. */
  unreachable: boolean;
  /** Ids to mark sent in storage. */
  marked: string[];
  /** Records handed over whose answer is never seen. */
  unknownFate: StoredEvent[];
  /** Caps a chunk's size at `maxBatchBytes`. */
  cap: (bytes: number) => number;
}

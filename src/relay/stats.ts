import { callHost } from '../core/errors';

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
  /** Of `duplicates`: records the shared dedup object (`dedup` option) knew as taken by any relay instance. */
  sharedDuplicates: number;
  /** Records another relay instance was forwarding (shared object): not forwarded here; the page is asked to retry them. */
  sharedBusy: number;
  /** Calls to the shared dedup object that failed (error, non-2xx, timeout): the relay used its own window meanwhile. */
  sharedFailures: number;
  /** Ids the shared object forgot before ttlMs because it held maxIds. */
  sharedEvicted: number;
  /** Receipts queries answered (`POST …/outbox/receipts`: which records the relay took; nothing forwarded). */
  receipts: number;
  /** Ids those queries answered as taken. */
  receiptsTaken: number;
}

/** The plain counters the relay's parts add to (everything in RelayStats but `rejected` and `background`). */
type RelayCounts = Omit<RelayStats, 'rejected' | 'background'>;

/** How the relay's parts tell what happened: counters and refusals for stats(), decisions and errors for the host. */
export interface Tell {
  /** Adds `n` (default 1) to one of the relay's counters. */
  count(counter: keyof RelayCounts, n?: number): void;
  /** Counts a refusal: `n` requests (or events, for `invalid-event` and `upstream-rejected`) for `reason`. @default n 1 */
  reject(reason: RejectReason, n?: number): void;
  /** Writes one decision to the console when `debug` is on. */
  log(message: string): void;
  /** Hands an internal or upstream error to the host's `onError` (logged too); never throws. */
  report(error: unknown): void;
}

/**
 * The relay's counters, changed only here (`count`, `reject`, and a copy of both for stats()), and its two ways of
 * telling the host: `log` (console.debug under `debug`) and `report` (onError).
 */
export function createStats(o: { debug: boolean; onError?: (error: Error) => void }): Tell & { snapshot(background: number): RelayStats } {
  const counts: RelayCounts = {
    requests: 0,
    received: 0,
    forwarded: 0,
    duplicates: 0,
    queued: 0,
    upstreamFailures: 0,
    heldBack: 0,
    beaconGaveUp: 0,
    sharedDuplicates: 0,
    sharedBusy: 0,
    sharedFailures: 0,
    sharedEvicted: 0,
    receipts: 0,
    receiptsTaken: 0,
  };
  const rejected: Partial<Record<RejectReason, number>> = {};
  const log = (message: string) => {
    if (o.debug) console.debug(`[outbox relay] ${message}`);
  };
  return {
    count: (counter, n = 1) => {
      counts[counter] += n;
    },
    reject: (reason, n = 1) => {
      rejected[reason] = (rejected[reason] ?? 0) + n;
    },
    log,
    report: (error) => {
      const e = error instanceof Error ? error : new Error(String(error));
      log(`error: ${e.message}`);
      callHost(o.onError, e);
    },
    snapshot: (background) => ({ ...counts, rejected: { ...rejected }, background }),
  };
}

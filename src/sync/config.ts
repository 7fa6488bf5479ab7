/** The options of the service-worker replay, checked once at install. */

/** Why the service worker dropped events (reported to `onDrop` and to the pages). */
export type SwDropReason = 'expired' | 'rejected';

/** One drop report: `count` events in `requests` stored requests. */
export interface SwDropInfo {
  reason: SwDropReason;
  /** Events dropped (0 when a stored body could not be read as a batch). */
  count: number;
  /** Stored requests dropped or trimmed. */
  requests: number;
  /** The HTTP status for 'rejected'. */
  status?: number;
}

/** Options of {@link installOutboxSync}. */
export interface OutboxSyncOptions {
  /** The ingestion URL the page posts to; relative URLs resolve against the worker's location. Matched by origin + path (any query, e.g. `?pk=`). */
  endpoint: string;
  /**
   * The receipts URL of the Outbox relay the endpoint belongs to (`<relay>/outbox/receipts`, e.g.
   * '/lf/outbox/receipts'): before resending a stored request whose first send may have reached the relay (a worker
   * that died mid-send), the worker asks it which events it already took and sends only the rest. Only for an Outbox
   * relay (`outbox/relay`); without it such a request is sent again whole. Relative URLs resolve against the worker's
   * location. @default none
   */
  receipts?: string;
  /** Workbox queue name; the sync tag is `workbox-background-sync:<queueName>`. @default 'outbox' */
  queueName?: string;
  /** Stored requests older than this many MINUTES are dropped (counted, reason 'expired'). @default 10080 (7 days) */
  maxRetentionMinutes?: number;
  /** Abort one replayed request after this many ms (it stays queued). @default 30000 */
  requestTimeoutMs?: number;
  /** Called for every drop; exceptions are swallowed. Pages also get `{ type: 'outbox:dropped', reason, count, requests }`. */
  onDrop?: (info: SwDropInfo) => void;
  /**
   * Act as if there were no SyncManager (replay only on worker start and on page messages), as in Safari and
   * Firefox. For runtimes whose SyncManager exists but never fires. @default false
   */
  forceSyncFallback?: boolean;
}

/** Options with defaults applied and checked; throws a TypeError naming a bad one. */
export function resolveSyncOptions(options: OutboxSyncOptions): {
  queueName: string;
  retentionMs: number;
  timeoutMs: number;
  target: URL;
  tag: string;
  receipts?: string;
} {
  const queueName = options.queueName ?? 'outbox';
  const retentionMinutes = options.maxRetentionMinutes ?? 7 * 24 * 60;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  if (typeof self === 'undefined' || typeof (self as { registration?: unknown }).registration !== 'object') {
    throw new TypeError('installOutboxSync: must run inside a service worker');
  }
  let target: URL;
  try {
    target = new URL(options.endpoint, self.location.href);
  } catch {
    throw new TypeError(`installOutboxSync: invalid options: endpoint must be a URL, got "${options.endpoint}"`);
  }
  const receipts = options.receipts;
  if (receipts !== undefined && typeof receipts !== 'string') throw new TypeError('installOutboxSync: invalid options: receipts must be a URL string');
  if (typeof queueName !== 'string' || queueName === '') throw new TypeError('installOutboxSync: invalid options: queueName must be a non-empty string');
  if (!(retentionMinutes > 0)) throw new TypeError(`installOutboxSync: invalid options: maxRetentionMinutes must be > 0, got ${retentionMinutes}`);
  if (!(timeoutMs > 0)) throw new TypeError(`installOutboxSync: invalid options: requestTimeoutMs must be > 0, got ${timeoutMs}`);
  return { queueName, retentionMs: retentionMinutes * 60_000, timeoutMs, target, tag: `workbox-background-sync:${queueName}`, receipts };
}

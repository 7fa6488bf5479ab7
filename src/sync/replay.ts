/// <reference lib="webworker" />
/**
 * Service-worker entry (`outbox/sw`): takes over batches the page could not deliver and replays them with the
 * Background Sync API, through `workbox-background-sync`'s `Queue` (its IndexedDB storage and sync registration)
 * but with our own replay: Workbox's default replay treats any HTTP answer, even a 500, as delivered.
 *
 * One owner at a time: the page deletes a batch only when it gets our `202` + `Outbox-Queued: 1`, and we answer
 * that only after the request is stored; if storing fails the page gets a network error and keeps the batch.
 */
import { Queue } from 'workbox-background-sync';
import { isRetryableStatus } from '../core/retry';
import { statusResult } from '../wire/answer';
import { parseMultiStatus } from '../wire/ingestion';
import { readBatch, rebuild } from './batch-body';
import { DELIVERED_MESSAGE_TYPE, DROPPED_MESSAGE_TYPE, REPLAY_MESSAGE_TYPE } from './messages';
import { deleteRowsBefore, requestOf } from './workbox-store';

declare const self: ServiceWorkerGlobalScope;

export { DELIVERED_MESSAGE_TYPE, DROPPED_MESSAGE_TYPE, REPLAY_MESSAGE_TYPE } from './messages';

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

/** What {@link installOutboxSync} returns. */
export interface OutboxSync {
  /** The Workbox queue holding the requests. */
  readonly queue: Queue;
  /** Sync tag registered with the SyncManager. */
  readonly tag: string;
  /** Replays the queue now (one replay at a time; concurrent calls share it). Rejects when a request must wait for a later retry. */
  replay(): Promise<void>;
}


/** The Background Sync event (not in TypeScript's webworker lib). */
interface SyncEvent extends ExtendableEvent {
  readonly tag: string;
  readonly lastChance: boolean;
}

type Outcome = { kind: 'done'; delivered: number } | { kind: 'retry'; why: string; request?: Request };

/**
 * Installs the hand-off and replay into this service worker; call once per queue name at the top level of the
 * worker script (listeners must exist at evaluation time). Throws a TypeError for invalid options.
 */
export function installOutboxSync(options: OutboxSyncOptions): OutboxSync {
  const queueName = options.queueName ?? 'outbox';
  const retentionMinutes = options.maxRetentionMinutes ?? 7 * 24 * 60;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  if (typeof self === 'undefined' || typeof self.registration !== 'object') {
    throw new TypeError('installOutboxSync: must run inside a service worker');
  }
  let target: URL;
  try {
    target = new URL(options.endpoint, self.location.href);
  } catch {
    throw new TypeError(`installOutboxSync: invalid options: endpoint must be a URL, got "${options.endpoint}"`);
  }
  if (typeof queueName !== 'string' || queueName === '') throw new TypeError('installOutboxSync: invalid options: queueName must be a non-empty string');
  if (!(retentionMinutes > 0)) throw new TypeError(`installOutboxSync: invalid options: maxRetentionMinutes must be > 0, got ${retentionMinutes}`);
  if (!(timeoutMs > 0)) throw new TypeError(`installOutboxSync: invalid options: requestTimeoutMs must be > 0, got ${timeoutMs}`);

  const tag = `workbox-background-sync:${queueName}`;
  const retentionMs = retentionMinutes * 60_000;

  // Registered before the Queue's own listener, so it runs first: remembers whether this is the browser's last
  // attempt. A failed last-chance sync keeps every request (never drops); Workbox then registers a new sync
  // because our replay put requests back during it, and worker start / page messages still replay.
  let lastChance = false;
  self.addEventListener('sync', (event) => {
    const e = event as SyncEvent;
    if (e.tag === tag) lastChance = e.lastChance;
  });

  let running: Promise<void> | null = null;
  const queue = new Queue(queueName, {
    forceSyncFallback: options.forceSyncFallback,
    // Expiry is ours (sweepExpired counts what it drops); Workbox would drop old requests silently in shift.
    maxRetentionTime: Infinity,
    onSync: () => replay(),
  });

  function report(info: SwDropInfo): void {
    try {
      options.onDrop?.(info);
    } catch {
      /* a host callback must not break the replay */
    }
    void tell({ type: DROPPED_MESSAGE_TYPE, ...info });
  }

  /** Set when a trigger arrives during a replay: the collector may have come back after that replay failed. */
  let again = false;

  function replay(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    const pass = async (): Promise<void> => {
      again = false;
      try {
        await replayAll();
      } catch (error) {
        if (again) return pass();
        throw error;
      }
      if (again) return pass();
    };
    // Deferred a tick: without a SyncManager, Workbox calls onSync from inside the Queue constructor, before
    // `queue` is assigned.
    running = Promise.resolve().then(pass).finally(() => {
      running = null;
      lastChance = false;
    });
    return running;
  }

  async function replayAll(): Promise<void> {
    await sweepExpired();
    let delivered = 0;
    try {
      for (let entry = await queue.shiftRequest(); entry; entry = await queue.shiftRequest()) {
        const outcome = await resend(entry.request);
        if (outcome.kind === 'done') {
          delivered += outcome.delivered;
          continue;
        }
        // Back at the front with its first timestamp (retention counts from the first hand-off).
        await queue.unshiftRequest({ request: outcome.request ?? entry.request, timestamp: entry.timestamp, metadata: entry.metadata });
        // Throwing fails the sync event, so the browser schedules another one (unless lastChance, see above).
        throw new Error(`outbox: replay of queue "${queueName}" will be retried: ${outcome.why}${lastChance ? ' (last chance: requests kept for the next worker start or page message)' : ''}`);
      }
    } finally {
      if (delivered > 0) void tell({ type: DELIVERED_MESSAGE_TYPE, count: delivered });
    }
  }

  /** Sends one stored request; what to do with it next. */
  async function resend(stored: Request): Promise<Outcome> {
    const batch = await readBatch(stored.clone());
    let response: Response;
    try {
      response = await fetch(stored.clone(), { signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      return { kind: 'retry', why: `network error: ${(error as Error)?.message ?? error}` };
    }
    const status = response.status;
    const count = batch?.batch.length ?? 0;
    if (status === 207) {
      const ids = batch ? batch.batch.map((e) => String((e as { id?: unknown })?.id)) : [];
      const result = parseMultiStatus(await response.text(), ids);
      if (result.kind === 'ok') return { kind: 'done', delivered: count };
      if (result.kind !== 'partial' || !batch) return { kind: 'retry', why: 'HTTP 207 with an unreadable body' };
      if (result.rejected.length > 0) {
        report({ reason: 'rejected', count: result.rejected.length, requests: 1, status: result.rejected[0]?.status });
      }
      const again = new Set<string>(result.retry);
      const delivered = count - result.rejected.length - again.size;
      if (again.size === 0) return { kind: 'done', delivered };
      // The page would resend only these: keep a request with the failed events alone.
      return { kind: 'retry', why: `HTTP 207: ${again.size} events failed`, request: rebuild(stored, batch, again) };
    }
    await response.body?.cancel().catch(() => undefined);
    const result = statusResult(status, response.headers, Date.now(), `HTTP ${status}`);
    if (result.kind === 'ok' || result.kind === 'handed-off') return { kind: 'done', delivered: count };
    if (result.kind === 'retry') return { kind: 'retry', why: `HTTP ${status}` };
    report({ reason: 'rejected', count, requests: 1, status }); // a stored request is not split: 413 is final here
    return { kind: 'done', delivered: 0 };
  }

  /** Deletes stored requests older than the retention, counting their events. */
  async function sweepExpired(): Promise<void> {
    await queue.size(); // lets Workbox create or upgrade its database before we open it
    const old = await deleteRowsBefore(queueName, Date.now() - retentionMs);
    if (old.length === 0) return;
    let count = 0;
    for (const row of old) count += (await readBatch(requestOf(row)))?.batch.length ?? 0;
    report({ reason: 'expired', count, requests: old.length });
  }

  async function handle(request: Request): Promise<Response> {
    const body = await request.arrayBuffer();
    // A plain copy: no keepalive (its 64 KiB budget would refuse a large replay), no navigation mode.
    const copy = () => new Request(request.url, { method: 'POST', headers: request.headers, body, credentials: request.credentials });
    try {
      const response = await fetch(copy());
      if (!isRetryableStatus(response.status)) return response;
      await response.body?.cancel().catch(() => undefined);
    } catch {
      /* network error: hand off below */
    }
    try {
      await queue.pushRequest({ request: copy() });
    } catch {
      return Response.error(); // not stored: the page keeps the batch and retries
    }
    return new Response(null, { status: 202, headers: { 'Outbox-Queued': '1' } });
  }

  self.addEventListener('fetch', (event) => {
    const request = event.request;
    if (request.method !== 'POST') return;
    const url = new URL(request.url);
    if (url.origin !== target.origin || url.pathname.replace(/\/$/, '') !== target.pathname.replace(/\/$/, '')) return;
    event.respondWith(handle(request));
  });

  self.addEventListener('message', (event) => {
    const data = event.data as { type?: unknown } | null;
    if (data && typeof data === 'object' && data.type === REPLAY_MESSAGE_TYPE) event.waitUntil(replay().catch(() => undefined));
  });

  // Worker start: the only replay trigger besides page messages where there is no SyncManager (Safari,
  // Firefox); harmless elsewhere (an empty queue, or one replay shared with a sync event).
  void replay().catch(() => undefined);

  return { queue, tag, replay };
}

/** Posts to every page of this worker's scope, controlled or not. */
async function tell(message: Record<string, unknown>): Promise<void> {
  try {
    for (const client of await self.clients.matchAll({ includeUncontrolled: true, type: 'window' })) client.postMessage(message);
  } catch {
    /* no client to tell */
  }
}

/// <reference lib="webworker" />
/**
 * The prebuilt service worker (`dist/outbox-sw.js`) for sites without a bundler. Serve it from your site's root
 * (a worker controls only pages under its own path) and register it with its configuration in the query string:
 *
 *   navigator.serviceWorker.register('/outbox-sw.js?endpoint=/api/public/ingestion&queue=outbox&retention=10080')
 *
 * or from your own worker, with `self.OUTBOX_SW_CONFIG = { endpoint, queueName, maxRetentionMinutes }` set
 * before `importScripts('/outbox-sw.js')` (the object wins over the query string, key by key).
 * Query keys: `endpoint` (default '/api/public/ingestion'), `receipts` (an Outbox relay's receipts URL, e.g.
 * '/lf/outbox/receipts': asked before a stored request of unknown fate is sent again), `queue` (default 'outbox'), `retention` (minutes,
 * default 7 days), `timeout` (ms per replayed request, default 30000), `sync=0` (act as if there were no
 * SyncManager). It activates at once (skipWaiting + clients.claim) so the page that registers it is controlled.
 */
import { installOutboxSync, type OutboxSyncOptions } from './sw';

declare const self: ServiceWorkerGlobalScope & { OUTBOX_SW_CONFIG?: Partial<OutboxSyncOptions> };

const query = new URL(self.location.href).searchParams;
const number = (key: string): number | undefined => (query.has(key) ? Number(query.get(key)) : undefined);
const config = self.OUTBOX_SW_CONFIG ?? {};

installOutboxSync({
  endpoint: config.endpoint ?? query.get('endpoint') ?? '/api/public/ingestion',
  queueName: config.queueName ?? query.get('queue') ?? undefined,
  receipts: config.receipts ?? query.get('receipts') ?? undefined,
  maxRetentionMinutes: config.maxRetentionMinutes ?? number('retention'),
  requestTimeoutMs: config.requestTimeoutMs ?? number('timeout'),
  forceSyncFallback: config.forceSyncFallback ?? query.get('sync') === '0',
  onDrop: config.onDrop,
});

// Take control of already open pages at once: otherwise their first batches bypass the worker until a reload.
self.addEventListener('install', () => void self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

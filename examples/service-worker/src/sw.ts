/// <reference lib="webworker" />
// The service worker: takes over the score batches the page could not deliver (offline, relay or Langfuse down)
// and replays them later with Background Sync, even if the page is gone. Bundled to public/sw.js by build.mjs.
import { installOutboxSync } from 'outbox/sw';

declare const self: ServiceWorkerGlobalScope;

installOutboxSync({
  endpoint: '/lf/api/public/ingestion', // the page's ingestion URL (its relay's); matched by origin + path
  receipts: '/lf/outbox/receipts', // asked before a request whose first send may have arrived is sent again
  onDrop: ({ reason, count }) => console.warn(`outbox service worker dropped ${count} records: ${reason}`),
});
self.addEventListener('install', () => void self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

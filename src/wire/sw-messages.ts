/** The messages pages and the Outbox service worker exchange (the page side: platform/service-worker.ts; the worker side: sync/replay.ts); both import the names from here. */

/** A page asks its service worker to replay now (the page's `online` event and start; workers never see `online`). */
export const REPLAY_MESSAGE_TYPE = 'outbox:replay';
/** Posted to every page of the scope when the worker dropped events: `{ type, reason, count, requests, status? }`. */
export const DROPPED_MESSAGE_TYPE = 'outbox:dropped';
/** Posted to every page of the scope after a replay delivered events: `{ type, count }`. */
export const DELIVERED_MESSAGE_TYPE = 'outbox:delivered';

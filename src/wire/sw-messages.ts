/** The messages pages and the Outbox service worker exchange (the page side: platform/service-worker.ts; the worker side: sync/replay.ts); both import the names from here. */

/** A page asks its service worker to replay now (the page's `online` event and start; workers never see `online`). */
export const REPLAY_MESSAGE_TYPE = 'outbox:replay';
/** Posted to every page of the scope when the worker dropped events: `{ type, reason, count, requests, status? }`. */
export const DROPPED_MESSAGE_TYPE = 'outbox:dropped';
/** Posted to every page of the scope after a replay delivered events: `{ type, count }`. */
export const DELIVERED_MESSAGE_TYPE = 'outbox:delivered';
/**
 * A recovering page asks its worker, with a MessagePort, about the ids it is about to resend: `{ type, ids }`. The
 * worker answers at once `true` (it forwards none of them) or `false`, then `true` once those forwards are answered
 * and their acknowledgements written.
 */
export const SETTLE_MESSAGE_TYPE = 'outbox:settle';

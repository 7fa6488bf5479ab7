/** The messages pages and the Outbox service worker exchange; both sides import the names from here. */

/** A page asks its service worker to replay now (the page's `online` event and start; workers never see `online`). */
export const REPLAY_MESSAGE_TYPE = 'outbox:replay';
/** Posted to every page of the scope when the worker dropped events: `{ type, reason, count, requests, status? }`. */
export const DROPPED_MESSAGE_TYPE = 'outbox:dropped';
/** Posted to every page of the scope after a replay delivered events: `{ type, count }`. */
export const DELIVERED_MESSAGE_TYPE = 'outbox:delivered';
/**
 * A recovering page asks its worker, with a MessagePort, about the ids it is about to resend: `{ type, ids }`. The
 * worker answers at once `{ holding }` (how many of them it is forwarding now), then, if any, `{ settled: true }`
 * once those forwards are answered and their acknowledgements written (or its own bound passed).
 */
export const SETTLE_MESSAGE_TYPE = 'outbox:settle';
/** The longest a worker makes a recovering page wait for its forwards (the page gives up after the same). */
export const SETTLE_WAIT_MS = 10_000;

import { REPLAY_MESSAGE_TYPE } from '../wire/sw-messages';

/** Message the page posts to its service worker to ask for a replay of the worker's queue (see `outbox/sw`). */
export const SW_REPLAY_MESSAGE = { type: REPLAY_MESSAGE_TYPE } as const;

/**
 * When the page is controlled by a service worker, asks it to replay its queue now and on every `online` event
 * of the page. Workers never get `online`/`offline` events, and Safari and Firefox have no SyncManager: there
 * this message (and the worker's own start) is the only replay trigger. Automatic: without a controlling
 * worker, or where service workers are unavailable, it does nothing. Returns a function that stops listening.
 * Never throws.
 */
export function attachServiceWorkerReplay(): () => void {
  let container: ServiceWorkerContainer | undefined;
  try {
    // Reading navigator.serviceWorker throws a SecurityError in opaque-origin documents (sandboxed iframes).
    container = typeof navigator !== 'undefined' ? navigator.serviceWorker : undefined;
  } catch {
    container = undefined;
  }
  if (!container || typeof addEventListener !== 'function') return () => {};
  const sw = container;
  const post = (): void => {
    try {
      sw.controller?.postMessage(SW_REPLAY_MESSAGE);
    } catch {
      /* the worker is gone; the next start replays anyway */
    }
  };
  post();
  addEventListener('online', post);
  return () => removeEventListener('online', post);
}

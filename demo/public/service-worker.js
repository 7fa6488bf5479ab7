// Registers Outbox's prebuilt service worker (dist/outbox-sw.js, served at /outbox-sw.js so its scope covers
// this page) when the build has it. `?sw=off` in the page URL unregisters it instead.

/**
 * @param {{ enabled: boolean, endpoint: string }} opts
 * @returns {Promise<string>} what happened, for the dashboard
 */
export async function setUpServiceWorker({ enabled, endpoint }) {
  if (!('serviceWorker' in navigator)) return 'not supported by this browser';
  if (!enabled) {
    const regs = await navigator.serviceWorker.getRegistrations();
    await Promise.all(regs.map((r) => r.unregister()));
    return regs.length ? 'off (unregistered)' : 'off';
  }
  // The file exists only once the service-worker build lands; without it the page works without a worker.
  const head = await fetch('/outbox-sw.js', { method: 'HEAD', cache: 'no-store' }).catch(() => null);
  if (!head?.ok) return 'not built (no dist/outbox-sw.js)';
  await navigator.serviceWorker.register(`/outbox-sw.js?endpoint=${encodeURIComponent(endpoint)}`, { scope: '/' });
  await navigator.serviceWorker.ready;
  // outbox-sw.js claims open pages when it activates; wait briefly for that before reporting.
  if (!navigator.serviceWorker.controller) {
    await new Promise((resolve) => {
      navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true });
      setTimeout(resolve, 3000);
    });
  }
  return navigator.serviceWorker.controller ? 'active, controls this page' : 'registered (controls the page after a reload)';
}

/** What outbox/sw posts to pages: deliveries after a replay and drops. */
export const SW_DELIVERED = 'outbox:delivered';
export const SW_DROPPED = 'outbox:dropped';

/**
 * Asks the controlling service worker to replay its queue now (the message `outbox:replay` of outbox/sw). The
 * demo sends it when the collector is switched back to normal, so handed-off batches show up at once instead
 * of when Chrome's Background Sync retries (its backoff is minutes). Returns whether a worker was asked.
 */
export function askServiceWorkerToReplay() {
  const worker = 'serviceWorker' in navigator ? navigator.serviceWorker.controller : null;
  if (!worker) return false;
  // outbox/sw runs one more pass when this arrives during a replay that is still failing against the old fault.
  worker.postMessage({ type: 'outbox:replay' });
  return true;
}

/**
 * Calls `onMessage` with each message the service worker posts to this page.
 * @param {(data: any) => void} onMessage
 */
export function watchServiceWorker(onMessage) {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.addEventListener('message', (e) => onMessage(e.data));
}

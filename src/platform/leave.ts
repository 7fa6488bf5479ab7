import type { LeaveHooks } from '../core/client';
import type { Storage } from '../core/types';
import { createUnloadSender, type UnloadDeps } from '../transport/unload';
import { watchLifecycle, type LifecycleTargets } from './lifecycle';
import { controlled } from './page-transport';

/**
 * Wires the unload path into a browser client: on `visibilitychange`→hidden or `pagehide` (whichever comes first;
 * on navigation `pagehide` does) sends the queue over the unload transports; on a restore from the back/forward
 * cache restarts normal sending. Returns `detach()`. Never throws into the page.
 */
export function attachUnload(
  hooks: LeaveHooks,
  storage?: Pick<Storage, 'markSent'>,
  deps: UnloadDeps & { targets?: LifecycleTargets } = {},
): () => void {
  const sender = createUnloadSender(hooks, { storage, controlled, ...deps });
  const log = (...args: unknown[]) => {
    if (hooks.options.debug) console.debug('[outbox]', ...args);
  };
  return watchLifecycle(
    {
      onHide({ via }) {
        try {
          const r = sender.send();
          if (r.requests > 0 || r.kept > 0) {
            log(`unload (${via}): keepalive ${r.keepalive}, fetchLater ${r.fetchLater}, beacon ${r.beacon}, kept ${r.kept} record(s) in ${r.requests} request(s)`);
          }
        } catch (error) {
          log('unload send failed:', error);
        }
      },
      onShow({ restored }) {
        sender.reset();
        // Back from the bfcache: timers resume by themselves, but what was put back at pagehide waits for a kick.
        if (restored) hooks.kick('manual');
      },
    },
    deps.targets,
  );
}

import type { LeaveHooks } from '../core/client';
import type { Storage } from '../core/types';
import { createUnloadSender, type UnloadDeps } from '../transport/unload';
import { pageSequence, watchLifecycle, type LifecycleTargets, type PageSteps } from './lifecycle';
import { controlled, failureHold } from './page-transport';

/**
 * The unload path's page steps for a browser client: at hide (`visibilitychange`→hidden or `pagehide`, whichever
 * comes first; on navigation `pagehide` does) send the queue over the unload transports; at show let them be tried
 * again, and after a restore from the back/forward cache restart normal sending. Never throws into the page.
 */
export function unloadSteps(hooks: LeaveHooks, storage?: Pick<Storage, 'markSent'>, deps: UnloadDeps = {}): Required<Pick<PageSteps, 'unload' | 'resume'>> {
  const sender = createUnloadSender(hooks, { storage, controlled, afterNetworkFailure: failureHold, ...deps });
  const log = (...args: unknown[]) => {
    if (hooks.options.debug) console.debug('[outbox]', ...args);
  };
  return {
    unload(via) {
      try {
        const r = sender.send();
        // A beforeunload may be cancelled, and a pagehide follows one that is not: both try every transport again.
        if (via === 'beforeunload') sender.reset();
        if (r.requests > 0 || r.kept > 0) {
          log(`unload (${via}): keepalive ${r.keepalive}, fetchLater ${r.fetchLater}, beacon ${r.beacon}, kept ${r.kept} record(s) in ${r.requests} request(s)`);
        }
      } catch (error) {
        log('unload send failed:', error);
      }
    },
    resume(restored) {
      sender.reset();
      // Back from the bfcache: timers resume by themselves, but what was put back at pagehide waits for a kick.
      if (restored) hooks.kick('manual');
    },
  };
}

/** The unload path alone on the page's lifecycle (its own listeners); returns `detach()`. */
export function attachUnload(
  hooks: LeaveHooks,
  storage?: Pick<Storage, 'markSent'>,
  deps: UnloadDeps & { targets?: LifecycleTargets } = {},
): () => void {
  return watchLifecycle(pageSequence(unloadSteps(hooks, storage, deps)), deps.targets);
}

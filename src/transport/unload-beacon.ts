import type { LeaveHooks } from '../core/client';
import { utf8Length } from '../core/encode';
import type { UnloadState, UnloadTools } from './unload-round';

/**
 * A beacon gives no answer: its bytes are counted against the budget for this long after it was sent (ms).
 * Underestimating only costs a keepalive fetch that is refused and retried later, never a loss. @default 10 s
 */
export const BEACON_HOLD_MS = 10_000;

/** The beacon URL: the endpoint with the public key as `?pk=` (a beacon cannot carry an Authorization header). */
export function unloadUrl(endpoint: string, publicKey?: string): string {
  if (!publicKey) return endpoint;
  return endpoint + (endpoint.includes('?') ? '&' : '?') + 'pk=' + encodeURIComponent(publicKey);
}

/**
 * Channel 3 of the unload path: sendBeacon, only toward a relay (the caller checks), as much as fits the keepalive
 * budget: text/plain with the key as ?pk=. `false` means over the budget.
 */
export function sendByBeacon(
  hooks: LeaveHooks,
  tools: UnloadTools,
  state: UnloadState,
  beaconFn: ((url: string, data: string) => boolean) | null,
): void {
  const { budget, uuid, setTimeout: hold } = tools;
  const { report, refused, unknownFate, cap } = state;
  let beaconRoom = Infinity;
  while (beaconFn && !refused.beacon && !state.unreachable) {
    const chunk = hooks.takeFront(() => cap(Math.min(beaconRoom, budget.free())));
    if (!chunk) {
      refused.beacon ||= beaconRoom !== Infinity; // halved below one record: the budget is spent
      break;
    }
    const { wire, events } = chunk;
    const text = wire.encodeBatch(uuid(), events);
    const bytes = utf8Length(text);
    const release = budget.reserve(bytes);
    let ok = false;
    try {
      ok = release !== undefined && beaconFn(unloadUrl(wire.url, hooks.options.publicKey), text);
    } catch {
      ok = false;
    }
    if (!ok) {
      release?.();
      hooks.putBack(events);
      if (events.length <= 1) {
        refused.beacon = true;
        break;
      }
      beaconRoom = Math.floor(bytes / 2); // never a larger chunk again: the budget only shrinks
      continue;
    }
    hold(() => release!(), BEACON_HOLD_MS);
    unknownFate.push(...events);
    report.beacon += events.length;
    report.requests++;
  }
}

import type { SendResult } from '../core/types';

/**
 * Whether the collector looks reachable from this page right now: `navigator.onLine === false`, or the last
 * answer was a network error (refused connection, DNS, offline) rather than an HTTP status. The unload path reads
 * it: records it sends while unreachable are not marked as sent, so the next load resends them at once instead of
 * after the sent-grace period.
 */
export interface Reachability {
  /** Notes how a send ended (normal or unload). */
  note(result: SendResult): void;
  /** True when a send now would most likely not arrive. */
  unreachable(): boolean;
  /** True when the browser says it has no network at all (`navigator.onLine === false`): a send now cannot arrive. */
  offline(): boolean;
}

/** A fresh tracker; `onLine` defaults to `navigator.onLine` where it exists. */
export function createReachability(onLine: () => boolean | undefined = () => (typeof navigator !== 'undefined' ? navigator.onLine : undefined)): Reachability {
  let networkFailed = false;
  return {
    note(result) {
      if (result.kind === 'retry') networkFailed = result.network;
      else networkFailed = false;
    },
    unreachable: () => onLine() === false || networkFailed,
    offline: () => onLine() === false,
  };
}

let shared: Reachability | undefined;

/** The tracker of this document, shared by the page's fetch transport and its unload path. */
export function documentReachability(): Reachability {
  return (shared ??= createReachability());
}

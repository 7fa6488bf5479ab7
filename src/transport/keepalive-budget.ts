/**
 * The document's keepalive budget, counted in one place: Chromium lets one document have at most 65 536 body
 * bytes in flight over keepalive fetches and beacons together, freed as each answer arrives (platform-facts §2).
 * Normal sends (keepalive whenever they fit, so a request in flight at `pagehide` still completes) and the unload
 * path reserve from the same accountant, so neither makes the other's request fail later with a TypeError.
 */

/** Body bytes one document may have in flight over keepalive fetches and beacons together. */
export const KEEPALIVE_BUDGET_BYTES = 65_536;
/**
 * Keepalive requests (fetch + beacons) this client keeps in flight at most. Chromium refuses keepalive fetches past
 * 256 per page and silently drops beacons past it while sendBeacon still returns true: stay well under.
 */
export const MAX_KEEPALIVE_REQUESTS = 32;
/**
 * Bytes of the budget normal sends leave free for the unload path: a page that hides while its normal sends are in
 * flight can still carry a queued tail. @default 16 KiB
 */
export const UNLOAD_RESERVE_BYTES = 16_384;

/** One document's accountant. `reserve` returns a release function (call it when the answer arrived or failed). */
export interface KeepaliveBudget {
  /** Reserves `bytes` for a normal send if they fit under the budget minus the unload reserve; undefined otherwise. */
  reserveForSend(bytes: number): (() => void) | undefined;
  /** Reserves `bytes` for an unload send if they fit under the whole budget; undefined otherwise. */
  reserve(bytes: number): (() => void) | undefined;
  /** Bytes still free for an unload send (0 when the request cap is reached). */
  free(): number;
  /** Bytes this document's Outbox clients count in flight. */
  inflight(): number;
}

/** A fresh accountant (tests); the page uses `documentBudget()`. */
export function createKeepaliveBudget(limitBytes = KEEPALIVE_BUDGET_BYTES, maxRequests = MAX_KEEPALIVE_REQUESTS, reserveBytes = UNLOAD_RESERVE_BYTES): KeepaliveBudget {
  let bytesInFlight = 0;
  let requests = 0;
  function take(bytes: number, limit: number): (() => void) | undefined {
    if (requests >= maxRequests || bytesInFlight + bytes > limit) return undefined;
    bytesInFlight += bytes;
    requests++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      bytesInFlight -= bytes;
      requests--;
    };
  }
  return {
    reserveForSend: (bytes) => take(bytes, limitBytes - reserveBytes),
    reserve: (bytes) => take(bytes, limitBytes),
    free: () => (requests >= maxRequests ? 0 : Math.max(0, limitBytes - bytesInFlight)),
    inflight: () => bytesInFlight,
  };
}

let shared: KeepaliveBudget | undefined;

/** The accountant of this document (one per JavaScript realm, as the browser's budget is one per document). */
export function documentBudget(): KeepaliveBudget {
  return (shared ??= createKeepaliveBudget());
}

import type { LeaveHooks } from '../core/client';
import { utf8Length } from '../core/encode';
import type { UnloadState, UnloadTools } from './unload-round';

/** fetchLater's own quota per origin, counting URL + headers + body. */
export const FETCH_LATER_QUOTA_BYTES = 65_536;

const headerBytes = (headers: Record<string, string>) => Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);

/**
 * Channel 2 of the unload path: fetchLater, as much as fits its own quota (64 KiB per origin incl. URL and
 * headers; over it, it throws synchronously). Its answer is never seen: not while the collector looks
 * unreachable (the records stay unmarked, queued).
 */
export function sendByFetchLater(
  hooks: LeaveHooks,
  tools: UnloadTools,
  state: UnloadState,
  laterFn: ((url: string, init: RequestInit & { activateAfter?: number }) => unknown) | null,
): void {
  const { uuid } = tools;
  const { report, refused, laterUsed, unknownFate, cap } = state;
  let laterRoom = Infinity;
  while (laterFn && !refused.fetchLater && !state.unreachable) {
    const chunk = hooks.takeFront((wire) => cap(Math.min(laterRoom, FETCH_LATER_QUOTA_BYTES - laterUsed.bytes - wire.url.length - headerBytes(wire.headers))));
    if (!chunk) {
      refused.fetchLater ||= laterRoom !== Infinity;
      break;
    }
    const { wire, events } = chunk;
    const text = wire.encodeBatch(uuid(), events);
    try {
      // activateAfter 0: send now even if the page lives on (a hidden tab); it also goes if the page is destroyed.
      laterFn(wire.url, { method: 'POST', body: text, headers: { ...wire.headers }, activateAfter: 0 });
    } catch {
      hooks.putBack(events);
      const bytes = utf8Length(text);
      if (bytes < 1024) {
        refused.fetchLater = true; // QuotaExceededError even for a small body (or no support at all)
        break;
      }
      laterRoom = Math.floor(bytes / 2); // over the quota: try a smaller chunk
      continue;
    }
    laterUsed.bytes += utf8Length(text) + wire.url.length + headerBytes(wire.headers);
    unknownFate.push(...events);
    report.fetchLater += events.length;
    report.requests++;
  }
}

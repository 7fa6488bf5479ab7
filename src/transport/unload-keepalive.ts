import type { LeaveHooks } from '../core/client';
import { utf8Length } from '../core/encode';
import { errorText } from '../core/errors';
import type { SendResult } from '../core/types';
import type { UnloadState, UnloadTools } from './unload-round';

/**
 * Channel 1 of the unload path: keepalive fetch with the wire's URL and headers, within the keepalive budget, as
 * much as fits; its answer is seen while the page lives and settles the records as a normal send.
 */
export function sendByKeepalive(
  hooks: LeaveHooks,
  tools: UnloadTools,
  state: UnloadState,
  fetchFn: ((url: string, init: RequestInit) => Promise<Response>) | undefined,
): void {
  const { budget, reachability, now, uuid } = tools;
  const { report, refused, marked, cap } = state;
  while (fetchFn && !refused.keepalive) {
    const chunk = hooks.takeFront(() => cap(budget.free()));
    if (!chunk) break;
    const { wire, events } = chunk;
    const text = wire.encodeBatch(uuid(), events);
    const release = budget.reserve(utf8Length(text));
    if (!release) {
      hooks.putBack(events);
      break;
    }
    let pending: Promise<Response>;
    try {
      pending = fetchFn(wire.url, { method: 'POST', keepalive: true, body: text, headers: { ...wire.headers } });
    } catch {
      release();
      hooks.putBack(events);
      refused.keepalive = true; // a fetch without keepalive support may throw: leave the rest to the others
      break;
    }
    report.requests++;
    report.keepalive += events.length;
    for (const e of events) marked.push(e.id);
    const ids = events.map((e) => e.id);
    pending
      .then((response) => wire.answer(response, ids, now()))
      .catch((error: unknown): SendResult => ({ kind: 'retry', network: true, error: `unload keepalive failed: ${errorText(error)}` }))
      .then((result) => {
        release();
        reachability.note(result);
        hooks.answer(events, result); // the page lived to see the answer: settle as a normal send
      })
      .catch(() => undefined);
  }
}

import { nextRetry, type RetryPolicy } from './retry';
import type { DropReason, SendResult, StoredEvent } from './types';

/** What one answer means for the records of the batch it answered. Pure: the client carries it out. */
export interface Outcome {
  /** Acknowledged by the server. */
  sent: StoredEvent[];
  /** Owned by a service worker now. */
  handedOff: StoredEvent[];
  /** Left Outbox for good, with a reason. */
  drops: { reason: DropReason; events: StoredEvent[]; detail: string }[];
  /** To send again after `delayMs`, having had `attempts` failed answers. */
  retry?: { events: StoredEvent[]; attempts: number; delayMs: number };
  /** Parts to send next, first part first, keeping the batch's attempts (413, or a whole-batch 400 to bisect). */
  split: StoredEvent[][];
  /** Consecutive failures after this answer (drives the backoff exponent). */
  failures: number;
  /** The failure to report as `lastError`. */
  error?: string;
}

/** The state an outcome depends on besides the answer. */
export interface OutcomeContext {
  /** Failed answers the batch had before this one. */
  attempts: number;
  /** Consecutive failures of the client before this answer. */
  failures: number;
  /** A number in [0, 1): the jitter draw. */
  random: number;
  policy: RetryPolicy;
}

function halves(events: StoredEvent[]): StoredEvent[][] {
  const half = Math.ceil(events.length / 2);
  return [events.slice(0, half), events.slice(half)];
}

function empty(failures: number): Outcome {
  return { sent: [], handedOff: [], drops: [], split: [], failures };
}

/** Retry or give up, for records whose send failed transiently. */
function retryOrGiveUp(out: Outcome, events: StoredEvent[], answered: boolean, ctx: OutcomeContext, retryAfterMs?: number): void {
  const attempts = ctx.attempts + (answered ? 1 : 0);
  out.failures = ctx.failures + 1;
  const decision = nextRetry({ attempts, failures: out.failures, network: !answered, retryAfterMs, random: ctx.random, probe: true }, ctx.policy);
  if (decision === 'give-up') out.drops.push({ reason: 'retry-exhausted', events, detail: `${attempts} failed attempts` });
  else out.retry = { events, attempts, delayMs: decision.delayMs };
}

/**
 * Maps a send's answer to what happens to each record: acknowledged, handed off, dropped (with reason and the
 * server's words), retried after a delay (Retry-After wins over backoff), or split in halves and sent again.
 */
export function outcomeOf(events: StoredEvent[], result: SendResult, ctx: OutcomeContext): Outcome {
  const out = empty(ctx.failures);
  switch (result.kind) {
    case 'ok': {
      out.failures = 0;
      const refused = Math.min(result.rejectedCount ?? 0, events.length);
      out.sent = refused > 0 ? events.slice(0, events.length - refused) : events;
      if (refused > 0) {
        const said = result.message ? `: ${result.message}` : '';
        out.drops.push({
          reason: 'rejected',
          events: events.slice(events.length - refused),
          detail: `the server accepted the request but refused ${refused} of ${events.length} record(s) without naming them${said}`,
        });
      }
      return out;
    }
    case 'handed-off':
      out.failures = 0;
      out.handedOff = events;
      return out;
    case 'partial': {
      out.failures = 0;
      const retry = new Set(result.retry);
      const rejected = new Map(result.rejected.map((r) => [r.id, r]));
      const again: StoredEvent[] = [];
      const bad: StoredEvent[] = [];
      for (const e of events) (retry.has(e.id) ? again : rejected.has(e.id) ? bad : out.sent).push(e);
      if (bad.length > 0) {
        const first = rejected.get(bad[0]!.id)!;
        out.drops.push({ reason: 'rejected', events: bad, detail: `server answered ${first.status}${first.message ? `: ${first.message}` : ''}` });
      }
      if (again.length > 0) retryOrGiveUp(out, again, true, ctx);
      return out;
    }
    case 'retry': {
      out.error = result.error;
      // "Come back after Retry-After" (a 429, or a relay's 503 while Langfuse is down) is the server's own plan, not a
      // failed attempt: such answers wait, like network errors, until maxEventAgeMs instead of exhausting retries.
      const scheduled = result.retryAfterMs !== undefined && (result.status === 429 || result.status === 503);
      retryOrGiveUp(out, events, !result.network && !scheduled, ctx, result.retryAfterMs);
      return out;
    }
    case 'too-large':
      if (events.length === 1) out.drops.push({ reason: 'too-large', events, detail: 'server answered 413 for a single record' });
      else out.split = halves(events);
      return out;
    case 'rejected':
      out.error = result.error;
      if (result.bisect && events.length > 1) out.split = halves(events);
      else out.drops.push({ reason: 'rejected', events, detail: `server answered ${result.status}: ${result.error}` });
      return out;
  }
}

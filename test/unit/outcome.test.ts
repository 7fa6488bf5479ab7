import { describe, expect, it } from 'vitest';
import { outcomeOf, type Outcome } from '../../src/core/outcome';
import type { SendResult, StoredEvent } from '../../src/core/types';

const policy = { initialDelayMs: 1000, maxDelayMs: 60_000, maxAttempts: 3 };
const recs = (n: number): StoredEvent[] => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, type: 't', ts: 0, line: '{}' }));
const ids = (list: StoredEvent[]) => list.map((e) => e.id);

/** The outcome in ids: what the table compares. */
function shape(o: Outcome) {
  return {
    sent: ids(o.sent),
    handedOff: ids(o.handedOff),
    drops: o.drops.map((d) => [d.reason, ids(d.events)]),
    retry: o.retry ? { ids: ids(o.retry.events), attempts: o.retry.attempts, delayMs: o.retry.delayMs } : undefined,
    split: o.split.map(ids),
    failures: o.failures,
  };
}

describe('outcomeOf: answer → ack / retry(delay) / drops / split', () => {
  it.each<[string, number, number, number, SendResult, ReturnType<typeof shape>]>([
    // label, records, attempts before, failures before, answer, expected
    ['2xx acknowledges all and resets the failure run', 3, 1, 4, { kind: 'ok' },
      { sent: ['r0', 'r1', 'r2'], handedOff: [], drops: [], retry: undefined, split: [], failures: 0 }],
    ['handed off to a service worker', 2, 0, 2, { kind: 'handed-off' },
      { sent: [], handedOff: ['r0', 'r1'], drops: [], retry: undefined, split: [], failures: 0 }],
    ['OTLP partial success: the last k are dropped rejected, never retried', 4, 0, 0, { kind: 'ok', rejectedCount: 1, message: 'bad span' },
      { sent: ['r0', 'r1', 'r2'], handedOff: [], drops: [['rejected', ['r3']]], retry: undefined, split: [], failures: 0 }],
    ['a rejectedCount over the batch size drops the batch, no more', 2, 0, 0, { kind: 'ok', rejectedCount: 9 },
      { sent: [], handedOff: [], drops: [['rejected', ['r0', 'r1']]], retry: undefined, split: [], failures: 0 }],
    ['207: acked, retried (answered: attempts+1) and rejected ids', 4, 0, 0, { kind: 'partial', retry: ['r1'], rejected: [{ id: 'r2', status: 400, message: 'no' }] },
      { sent: ['r0', 'r3'], handedOff: [], drops: [['rejected', ['r2']]], retry: { ids: ['r1'], attempts: 1, delayMs: 500 }, split: [], failures: 1 }],
    ['500: retried with jittered backoff, attempts+1', 2, 1, 1, { kind: 'retry', network: false, status: 500, error: 'HTTP 500' },
      { sent: [], handedOff: [], drops: [], retry: { ids: ['r0', 'r1'], attempts: 2, delayMs: 1000 }, split: [], failures: 2 }],
    ['429 with Retry-After: the server’s wait wins, and it is not a failed attempt', 1, 0, 0, { kind: 'retry', network: false, status: 429, retryAfterMs: 2000, error: 'HTTP 429' },
      { sent: [], handedOff: [], drops: [], retry: { ids: ['r0'], attempts: 0, delayMs: 2000 }, split: [], failures: 1 }],
    ['503 with Retry-After (a relay while Langfuse is down): not an attempt, never exhausts retries', 2, 2, 0, { kind: 'retry', network: false, status: 503, retryAfterMs: 5000, error: 'HTTP 503' },
      { sent: [], handedOff: [], drops: [], retry: { ids: ['r0', 'r1'], attempts: 2, delayMs: 5000 }, split: [], failures: 1 }],
    ['500 with Retry-After still counts as an attempt', 1, 2, 0, { kind: 'retry', network: false, status: 500, retryAfterMs: 5000, error: 'HTTP 500' },
      { sent: [], handedOff: [], drops: [['retry-exhausted', ['r0']]], retry: undefined, split: [], failures: 1 }],
    ['network error: attempts unchanged, never gives up', 2, 2, 0, { kind: 'retry', network: true, error: 'reset' },
      { sent: [], handedOff: [], drops: [], retry: { ids: ['r0', 'r1'], attempts: 2, delayMs: 500 }, split: [], failures: 1 }],
    ['the last allowed failed answer gives up: retry-exhausted', 2, 2, 0, { kind: 'retry', network: false, status: 503, error: 'HTTP 503' },
      { sent: [], handedOff: [], drops: [['retry-exhausted', ['r0', 'r1']]], retry: undefined, split: [], failures: 1 }],
    ['413 splits in halves, first half first', 5, 1, 3, { kind: 'too-large' },
      { sent: [], handedOff: [], drops: [], retry: undefined, split: [['r0', 'r1', 'r2'], ['r3', 'r4']], failures: 3 }],
    ['413 for a single record drops it too-large', 1, 0, 0, { kind: 'too-large' },
      { sent: [], handedOff: [], drops: [['too-large', ['r0']]], retry: undefined, split: [], failures: 0 }],
    ['a whole-batch 400 is bisected to find the bad record', 4, 0, 0, { kind: 'rejected', status: 400, error: 'HTTP 400: bad span', bisect: true },
      { sent: [], handedOff: [], drops: [], retry: undefined, split: [['r0', 'r1'], ['r2', 'r3']], failures: 0 }],
    ['…down to the one record, dropped rejected', 1, 0, 0, { kind: 'rejected', status: 400, error: 'HTTP 400: bad span', bisect: true },
      { sent: [], handedOff: [], drops: [['rejected', ['r0']]], retry: undefined, split: [], failures: 0 }],
    ['401 drops the batch rejected, no bisection', 3, 0, 0, { kind: 'rejected', status: 401, error: 'HTTP 401' },
      { sent: [], handedOff: [], drops: [['rejected', ['r0', 'r1', 'r2']]], retry: undefined, split: [], failures: 0 }],
  ])('%s', (_label, n, attempts, failures, result, expected) => {
    expect(shape(outcomeOf(recs(n), result, { attempts, failures, random: 0.5, policy }))).toEqual(expected);
  });

  it("drops carry the server's words", () => {
    const out = outcomeOf(recs(1), { kind: 'rejected', status: 403, error: 'HTTP 403: insufficient permissions' }, { attempts: 0, failures: 0, random: 0, policy });
    expect(out.drops[0]!.detail).toBe('server answered 403: HTTP 403: insufficient permissions');
    expect(out.error).toBe('HTTP 403: insufficient permissions');
  });
});

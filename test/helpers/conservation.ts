import { expect } from 'vitest';
import type { OutboxStats } from '../../src/core/types';

/** tracked + recovered = sent + handedOff + queued + inflight + every drop: nothing vanishes. */
export function expectConservation(stats: OutboxStats): void {
  const dropped = Object.values(stats.dropped).reduce((a, b) => a + b, 0);
  expect(stats.sent + stats.handedOff + stats.queued + stats.inflight + dropped, JSON.stringify(stats)).toBe(
    stats.tracked + stats.recovered,
  );
}

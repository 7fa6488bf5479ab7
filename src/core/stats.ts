import { recordsIn } from './batches';
import { queuedCount, type Core } from './state';
import type { OutboxStats } from './types';

/** A snapshot of the client's counters for `stats()`: counts from the report, sizes read off the queues. */
export function statsOf(core: Core): OutboxStats {
  const { report } = core;
  const { counts } = report;
  return {
    tracked: counts.tracked,
    recovered: counts.recovered,
    queued: queuedCount(core),
    inflight: recordsIn(core.inflight),
    sent: counts.sent,
    handedOff: counts.handedOff,
    retried: counts.retried,
    requests: counts.requests,
    dropped: { ...report.dropped },
    durable: core.storage ? (core.storage.durableNow?.() ?? core.storage.durable) : false,
    lastFlushReason: report.lastFlushReason,
    lastError: report.lastError,
  };
}

import { takeQueued } from './hooks';
import { drop } from './intake';
import type { Core } from './state';

/**
 * What shutdown() leaves behind: a record stays queued if it is committed to durable storage (the next start sends
 * it), and is dropped 'shutdown' otherwise — said, not lost silently.
 */
export function settleLeftovers(core: Core): void {
  const left = [...takeQueued(core), ...core.parked.splice(0)];
  const storage = core.storage;
  const kept = !storage ? [] : storage.isCommitted ? left.filter((e) => storage.isCommitted!(e.id)) : storage.durable ? left : [];
  const keptIds = new Set(kept.map((e) => e.id));
  drop(core, 'shutdown', left.filter((e) => !keptIds.has(e.id)), storage ? 'not delivered before shutdown, and not committed to storage' : 'not delivered before shutdown (memory storage)');
  for (const wire of new Set(kept.map((e) => e.wire ?? 'ingestion'))) {
    const events = kept.filter((e) => (e.wire ?? 'ingestion') === wire);
    core.retries.push({ batchId: core.uuid(), wire, events, minSeq: Infinity, attempts: 0 });
  }
}

/**
 * The shutdown sequence: one last attempt for everything (backoff or not) via `flush`, wait for sends in flight,
 * stop the scheduler, settle what is left, detach (`onShutdown`), close storage, release every flush waiter.
 */
export async function runShutdown(core: Core, flush: () => Promise<void>, onShutdown?: () => void): Promise<void> {
  const { report } = core;
  try {
    core.ignoreGate = true;
    await flush();
    while (core.inflightWork.size > 0) await Promise.allSettled([...core.inflightWork]);
  } catch (error) {
    report.error(error);
  }
  core.stopped = true;
  core.scheduler.stop();
  settleLeftovers(core);
  report.flushDrops();
  try {
    onShutdown?.();
    await core.storage?.close();
  } catch (error) {
    report.error(error);
  }
  core.waiters.releaseAll();
}

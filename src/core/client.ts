import { createBatchList } from './batches';
import { createHooks, takeQueued, type ClientHooks } from './hooks';
import { drop, sealAndPersist, track } from './intake';
import { createReport } from './report';
import { createScheduler } from './scheduler';
import { pump, requestFlush } from './send';
import { queuedCount, unbatched, type Core } from './state';
import { createFlushWaiters } from './waiters';
import { recordsIn } from './batches';
import type { ResolvedOptions } from './options';
import type { Clock, CoreOutbox, FlushReason, OutboxStats, Storage, Transport } from './types';
import type { Wire, WireName } from '../wire/types';

export type { ClientHooks, LeaveHooks, RecoveryHooks } from './hooks';
export type { NewRecord } from './intake';
export { MAX_CONCURRENT_REQUESTS } from './send';

/** The platform parts an entry plugs into the core. */
export interface Platform {
  transport: Transport;
  /** The wires records travel on, by name; a record whose wire is missing is dropped 'invalid'. */
  wires: Partial<Record<WireName, Wire>>;
  /** Durable mirror of the queue; none means memory only. */
  storage?: Storage;
  clock: Clock;
  /** v4 UUID factory. */
  uuid: () => string;
  /** Uniform [0, 1) for jitter. @default Math.random */
  random?: () => number;
  /** Where debug lines and warnings go. @default console */
  logger?: Pick<Console, 'debug' | 'warn'>;
  /** Arm the flushInterval timer. Workers turn it off: no timer may outlive a request. @default true */
  timers?: boolean;
  /** Receives every send's promise (Workers: ctx.waitUntil). */
  waitUntil?: (work: Promise<unknown>) => void;
  /** Told of every queued record, whatever API queued it. */
  onQueued?: () => void;
  /** Called once when shutdown() has finished sending, before storage closes: detach listeners. */
  onShutdown?: () => void;
}

function createCore(options: ResolvedOptions, platform: Platform): Core {
  return {
    options,
    clock: platform.clock,
    transport: platform.transport,
    wires: platform.wires,
    storage: platform.storage,
    uuid: platform.uuid,
    random: platform.random ?? Math.random,
    waitUntil: platform.waitUntil,
    onQueued: platform.onQueued,
    report: createReport(options, platform.logger ?? console),
    scheduler: undefined as never, // set right below: its callbacks need the core
    waiters: createFlushWaiters(),
    queues: new Map(),
    retries: createBatchList(),
    inflight: new Set(),
    inflightWork: new Set(),
    parked: [],
    seq: 0,
    flushTarget: 0,
    failures: 0,
    closed: false,
    stopped: false,
    ignoreGate: false,
  };
}

/**
 * Builds the client from its parts — per-wire queues (state.ts), intake and sealing (intake.ts), next-batch
 * (batcher.ts), sending and outcomes (send.ts, outcome.ts), the scheduler, flush waiters and the report — over
 * the given platform. This function only wires them together.
 */
export function createClient(options: ResolvedOptions, platform: Platform): { outbox: CoreOutbox; hooks: ClientHooks } {
  const core = createCore(options, platform);
  const { report } = core;
  core.scheduler = createScheduler({
    clock: core.clock,
    timers: platform.timers !== false,
    intervalMs: options.flushInterval * 1000,
    onEndOfTask() {
      try {
        sealAndPersist(core);
        report.flushDrops();
        if (core.stopped) return;
        pump(core);
        if (unbatched(core) > 0) core.scheduler.armInterval();
      } catch (error) {
        report.error(error);
      }
    },
    onInterval: () => requestFlush(core, 'timer'),
    onGateOpen() {
      report.lastFlushReason = 'retry';
      pump(core);
    },
  });

  function flushWith(reason: FlushReason): Promise<void> {
    return new Promise<void>((resolve) => {
      try {
        sealAndPersist(core);
        report.flushDrops();
        core.waiters.add(core.seq, resolve);
        requestFlush(core, reason);
      } catch (error) {
        report.error(error);
        resolve();
      }
    });
  }

  let shutdownPromise: Promise<void> | null = null;
  async function finishShutdown(): Promise<void> {
    try {
      core.ignoreGate = true; // the last chance: one attempt for everything, backoff or not
      await flushWith('shutdown');
      while (core.inflightWork.size > 0) await Promise.allSettled([...core.inflightWork]);
    } catch (error) {
      report.error(error);
    }
    core.stopped = true;
    core.scheduler.stop();
    // What is left stays queued if its record is committed to durable storage (the next start sends it), and is
    // dropped 'shutdown' otherwise: said, not lost silently.
    const left = [...takeQueued(core), ...core.parked.splice(0)];
    const storage = core.storage;
    const kept = !storage ? [] : storage.isCommitted ? left.filter((e) => storage.isCommitted!(e.id)) : storage.durable ? left : [];
    const keptIds = new Set(kept.map((e) => e.id));
    drop(core, 'shutdown', left.filter((e) => !keptIds.has(e.id)), storage ? 'not delivered before shutdown, and not committed to storage' : 'not delivered before shutdown (memory storage)');
    for (const wire of new Set(kept.map((e) => e.wire ?? 'ingestion'))) {
      const events = kept.filter((e) => (e.wire ?? 'ingestion') === wire);
      core.retries.push({ batchId: core.uuid(), wire, events, minSeq: Infinity, attempts: 0 });
    }
    report.flushDrops();
    try {
      platform.onShutdown?.();
      await core.storage?.close();
    } catch (error) {
      report.error(error);
    }
    core.waiters.releaseAll();
  }

  function stats(): OutboxStats {
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

  const outbox: CoreOutbox = {
    track: (type, body, opts) => track(core, type, body, opts),
    flush: () => (core.stopped ? Promise.resolve() : flushWith('manual')),
    shutdown() {
      core.closed = true;
      return (shutdownPromise ??= finishShutdown());
    },
    stats,
  };
  return { outbox, hooks: createHooks(core) };
}

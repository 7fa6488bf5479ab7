import { createBatchList } from './batches';
import { createHooks, type ClientHooks } from './hooks';
import { sealAndPersist, track } from './intake';
import { createReport } from './report';
import { createScheduler } from './scheduler';
import { pump, requestFlush } from './send';
import { runShutdown } from './shutdown';
import { statsOf } from './stats';
import { unbatched, type Core } from './state';
import { createFlushWaiters } from './waiters';
import type { ResolvedOptions } from './options';
import type { Clock, CoreOutbox, FlushReason, Storage, Transport } from './types';
import type { Wire, WireName } from '../core/types';

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
  const outbox: CoreOutbox = {
    track: (type, body, opts) => track(core, type, body, opts),
    flush: () => (core.stopped ? Promise.resolve() : flushWith('manual')),
    shutdown() {
      core.closed = true;
      return (shutdownPromise ??= runShutdown(core, () => flushWith('shutdown'), platform.onShutdown));
    },
    stats: () => statsOf(core),
  };
  return { outbox, hooks: createHooks(core) };
}

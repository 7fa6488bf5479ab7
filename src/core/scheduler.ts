import type { Clock } from './types';

/** When the client acts: at the end of the task, on the flush-interval timer, and when a backoff gate opens. */
export interface Scheduler {
  /** Runs `onEndOfTask` once at the end of the current task (a microtask), however often it is asked. */
  endOfTask(): void;
  /** Arms the flush-interval timer unless it is armed (or timers are off). */
  armInterval(): void;
  /** Backoff: no send before `until` (clock ms). The gate only ever moves later. */
  closeGateUntil(until: number): void;
  /** Ms until the gate opens (0 when open); arms the timer that calls `onGateOpen` then. */
  gatedFor(now: number): number;
  /** Opens the gate now (the network is back, or a restore from the bfcache). */
  openGate(): void;
  /** Clears every timer; nothing fires afterwards. */
  stop(): void;
}

export interface SchedulerHooks {
  clock: Clock;
  /** The flush-interval timer. Workers turn it off: no timer may outlive a request. */
  timers: boolean;
  intervalMs: number;
  onEndOfTask(): void;
  onInterval(): void;
  onGateOpen(): void;
}

export function createScheduler(hooks: SchedulerHooks): Scheduler {
  const { clock } = hooks;
  let endOfTaskQueued = false;
  let intervalTimer: unknown = null;
  let gateTimer: unknown = null;
  let gateUntil = 0;
  let stopped = false;

  const runEndOfTask = () => {
    endOfTaskQueued = false;
    hooks.onEndOfTask();
  };

  return {
    endOfTask() {
      if (endOfTaskQueued) return;
      endOfTaskQueued = true;
      queueMicrotask(runEndOfTask);
    },
    armInterval() {
      if (!hooks.timers || intervalTimer !== null || stopped) return;
      intervalTimer = clock.setTimeout(() => {
        intervalTimer = null;
        hooks.onInterval();
      }, hooks.intervalMs);
    },
    closeGateUntil(until) {
      gateUntil = Math.max(gateUntil, until);
    },
    gatedFor(now) {
      if (now >= gateUntil) return 0;
      if (gateTimer === null && !stopped) {
        gateTimer = clock.setTimeout(() => {
          gateTimer = null;
          hooks.onGateOpen();
        }, gateUntil - now);
      }
      return gateUntil - now;
    },
    openGate() {
      gateUntil = 0;
      if (gateTimer !== null) clock.clearTimeout(gateTimer);
      gateTimer = null;
    },
    stop() {
      stopped = true;
      if (intervalTimer !== null) clock.clearTimeout(intervalTimer);
      if (gateTimer !== null) clock.clearTimeout(gateTimer);
      intervalTimer = gateTimer = null;
    },
  };
}

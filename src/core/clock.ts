import type { Clock } from './types';

/** The real clock: Date.now and the global timers; timers are unref'd where the platform allows (Node). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms) as unknown as { unref?: () => void };
    if (handle && typeof handle === 'object' && typeof handle.unref === 'function') handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

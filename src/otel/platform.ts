import type { Platform } from '../core/client';
import type { Clock } from '../core/types';
import type { WaitUntilContext } from './options';

// `waitUntil` from 'cloudflare:workers' ties work to the current request without a ctx. The module exists only in
// workerd, so it is imported dynamically and only there (src/worker.ts does the same for the client); the
// specifier must stay a literal, because workerd bundlers (wrangler, miniflare) refuse computed ones.
let ambientWaitUntil: ((promise: Promise<unknown>) => void) | undefined;

/** True inside workerd (Cloudflare documents this user agent). */
export function inWorkers(): boolean {
  return (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent === 'Cloudflare-Workers';
}

if (inWorkers()) {
  // @ts-expect-error the module and its types exist only in workerd (@cloudflare/workers-types).
  import('cloudflare:workers').then(
    (m: { waitUntil?: (promise: Promise<unknown>) => void }) => {
      if (typeof m.waitUntil === 'function') ambientWaitUntil = m.waitUntil;
    },
    () => undefined,
  );
}

/**
 * Timers that never fire: in Workers a timer may not outlive the request that set it, so the core's interval and
 * backoff timers are off; sends start at the end of the task that queued a span, inside `waitUntil`.
 */
const requestClock: Clock = { now: () => Date.now(), setTimeout: () => 0, clearTimeout: () => undefined };

/** Where background work goes: the given ctx's waitUntil, else the ambient one in workerd, else nowhere (Node). */
export function waitUntilOf(ctx: WaitUntilContext | undefined): ((work: Promise<unknown>) => void) | undefined {
  if (ctx) return (work) => ctx.waitUntil(work);
  if (!inWorkers()) return undefined;
  return (work) => ambientWaitUntil?.(work);
}

/**
 * The platform parts of the processor's client. Node: the defaults (timers on, nothing to hand work to). Workers
 * (or a ctx): no timers, every send handed to waitUntil, and a flush at the end of each task that queued a span,
 * so nothing waits for a timer the platform would not keep and no response waits for a send.
 */
export function processorPlatform(ctx: WaitUntilContext | undefined, flushSoon: () => void): Partial<Platform> {
  const waitUntil = waitUntilOf(ctx);
  if (!waitUntil) return {};
  return { clock: requestClock, timers: false, waitUntil, onQueued: flushSoon };
}

// The fault state of the ingestion routes: which failure to inject into the next requests of a route.
import { faultSchema, formatZodError } from './schema.mjs';

/** @typedef {import('zod').output<typeof faultSchema>} Fault */
/** @typedef {'otlp' | 'ingestion'} RoutePath */

/** @type {Fault} */
const NONE = Object.freeze({ mode: 'none' });

/** Modes that exist only for the OTLP route. */
const OTLP_ONLY = new Set(['partial-success', 'reject-span']);

/**
 * Validates a fault description.
 * @param {unknown} input
 * @returns {{ ok: true, fault: Fault } | { ok: false, message: string }}
 */
export function parseFault(input) {
  const parsed = faultSchema.safeParse(input);
  if (!parsed.success) return { ok: false, message: `invalid fault: ${formatZodError(parsed.error)}` };
  return { ok: true, fault: parsed.data };
}

/**
 * Whether a fault applies to a request on `route`: its `path` is absent, 'any' or that route, and OTLP-only
 * modes never apply to the ingestion route.
 * @param {Fault} fault
 * @param {RoutePath} route
 */
function appliesTo(fault, route) {
  if (OTLP_ONLY.has(fault.mode)) return route === 'otlp';
  return fault.path === undefined || fault.path === 'any' || fault.path === route;
}

/**
 * Creates the fault state. `take(route)` is called once per request on an ingestion route (`/ingestion` or the
 * OTLP route) and returns the fault that applies to it; a fault with `times: n` applies to n requests of the
 * routes it targets (requests of other routes use none of them), then the mode reverts to 'none'.
 * @returns {{ set(input: unknown): void, take(route: RoutePath): Fault, current(): Fault, reset(): void }}
 */
export function createFaults() {
  /** @type {Fault} */
  let fault = NONE;
  let remaining = Infinity;
  return {
    /** Validates and installs a fault; throws a TypeError naming the problem when it is invalid. */
    set(input) {
      const parsed = parseFault(input);
      if (!parsed.ok) throw new TypeError(parsed.message);
      fault = parsed.fault.mode === 'none' ? NONE : parsed.fault;
      remaining = parsed.fault.times ?? Infinity;
    },
    take(route) {
      if (fault.mode === 'none' || !appliesTo(fault, route)) return NONE;
      const applied = fault;
      remaining -= 1;
      if (remaining <= 0) {
        fault = NONE;
        remaining = Infinity;
      }
      return applied;
    },
    current() {
      if (fault.mode === 'none') return NONE;
      return Number.isFinite(remaining) ? { ...fault, times: remaining } : { ...fault };
    },
    reset() {
      fault = NONE;
      remaining = Infinity;
    },
  };
}

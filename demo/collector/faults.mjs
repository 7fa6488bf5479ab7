// The fault state of the ingestion route: which failure to inject into the next ingestion requests.
import { faultSchema, formatZodError } from './schema.mjs';

/** @typedef {import('zod').output<typeof faultSchema>} Fault */

/** @type {Fault} */
const NONE = Object.freeze({ mode: 'none' });

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
 * Creates the fault state. `take()` is called once per ingestion request and returns the fault that applies
 * to it; a fault with `times: n` applies to n requests, then the mode reverts to 'none'.
 * @returns {{ set(input: unknown): void, take(): Fault, current(): Fault, reset(): void }}
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
    take() {
      if (fault.mode === 'none') return NONE;
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

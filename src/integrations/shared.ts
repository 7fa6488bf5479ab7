import type { Observation, ObservationAttributes, ParentSpanContext, StartOptions, TraceAttributes } from '../trace/types';

export type { ParentSpanContext };

/**
 * Where an integration starts its observations: the Outbox client (a new trace per call, or the active observation
 * once the client has an active context) or an open observation (the calls become its children).
 */
export interface ObservationParent {
  startObservation(name: string, attributes?: ObservationAttributes, options?: StartOptions): Observation;
}

/**
 * Start options for a call: a remote parent (else the client's active observation is the parent) and trace-wide
 * attributes, each only when given.
 */
export function startOptions(
  asType: StartOptions['asType'],
  parent: ParentSpanContext | undefined,
  trace: TraceAttributes,
): StartOptions {
  const options: StartOptions = { asType };
  if (parent !== undefined) options.parentSpanContext = parent;
  const defined = Object.fromEntries(Object.entries(trace).filter(([, v]) => v !== undefined));
  if (Object.keys(defined).length > 0) options.trace = defined as TraceAttributes;
  return options;
}

/**
 * Metadata as the Langfuse SDKs send it: one attribute per key, a string as is and anything else as JSON; empty and
 * unserializable values are left out (a cycle becomes the SDK's own marker).
 */
export function flatMetadata(metadata: Record<string, unknown> | undefined): Record<string, string> | undefined {
  if (metadata === undefined || metadata === null || typeof metadata !== 'object') return undefined;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    let text: string | undefined;
    try {
      text = typeof value === 'string' ? value : value == null ? undefined : JSON.stringify(value);
    } catch {
      text = '<failed to serialize>';
    }
    if (text) out[key] = text;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Non-negative integers only (what Langfuse keeps of usage), so a null or fractional entry is not warned about. */
export function tokenCounts(usage: Record<string, unknown> | undefined): Record<string, number> | undefined {
  if (!usage) return undefined;
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(usage)) if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) out[key] = value;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The text Langfuse records as an error's status message. */
export function errorMessage(error: unknown): string {
  try {
    return String(error);
  } catch {
    return 'error';
  }
}

/** Runs `fn`, swallowing what it throws: recording must never break the app's call. */
export function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    /* recording is best effort; the observation API itself never throws */
  }
}

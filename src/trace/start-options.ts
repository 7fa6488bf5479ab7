import { normalizeHexId } from './ids';
import type { ObservationType, StartOptions } from './types';

/** Langfuse's observation types (`langfuse.observation.type`); the relay checks pages' spans against them too. */
export const OBSERVATION_TYPES: readonly ObservationType[] = [
  'span', 'generation', 'event', 'agent', 'tool', 'chain', 'retriever', 'evaluator', 'embedding', 'guardrail',
];

/**
 * Copies startObservation()'s options, each key read once in its own try, and checks `asType`. Returns the
 * options and the type ('span' unless a valid one is given); what was ignored is pushed to `early`.
 */
export function readStartOptions(options: StartOptions | undefined, early: string[]): [StartOptions, ObservationType] {
  const opts: StartOptions = {};
  if (options !== undefined && options !== null) {
    for (const key of ['asType', 'trace', 'startTime', 'traceId', 'parentSpanId', 'parentSpanContext'] as const) {
      try {
        (opts as Record<string, unknown>)[key] = (options as Record<string, unknown>)[key];
      } catch {
        early.push(`options.${key}: getter threw, ignored`);
      }
    }
  }
  let type: ObservationType = 'span';
  if (opts.asType !== undefined) {
    if (OBSERVATION_TYPES.includes(opts.asType)) type = opts.asType;
    else early.push(`options.asType: not an observation type, 'span' used`);
  }
  return [opts, type];
}

/**
 * A root observation's trace id and remote parent from its options: `traceId` must be 32 hex digits (else a new
 * one from `newTraceId`), `parentSpanId` 16 and needs a valid `traceId`. What was ignored is pushed to `early`.
 */
export function rootIds(opts: StartOptions, early: string[], newTraceId: () => string): [string, string | undefined] {
  let traceId: string | undefined;
  let parentSpanId: string | undefined;
  if (opts.traceId !== undefined) {
    traceId = normalizeHexId(opts.traceId, 32);
    if (traceId === undefined) early.push('options.traceId: not 32 hex digits, a new trace id used');
  }
  if (opts.parentSpanId !== undefined) {
    const given = normalizeHexId(opts.parentSpanId, 16);
    if (given === undefined) early.push('options.parentSpanId: not 16 hex digits, ignored');
    else if (traceId === undefined) early.push('options.parentSpanId: needs a valid traceId, ignored');
    else parentSpanId = given;
  }
  return [traceId ?? newTraceId(), parentSpanId];
}

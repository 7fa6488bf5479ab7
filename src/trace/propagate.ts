/**
 * propagateAttributes(): Langfuse's rules (`@langfuse/core` 5.11.1, propagateAttributes): userId, sessionId,
 * version, traceName, each tag and each metadata value must be a string of at most 200 characters, else it is
 * dropped with a warning (never truncated); environment must match /^(?!langfuse)[a-z0-9_-]+$/ and be at most 40
 * characters. Nested calls merge: tags union (first seen order), metadata key by key, other keys replace.
 */
import { attr, type OtlpKeyValue } from '../wire/otlp';
import type { PropagatedAttributes } from './types';

/** Propagated attributes in force: the validated values and their span attributes (built once per call). */
export interface Propagation {
  a: PropagatedAttributes;
  /** Trace attributes as Langfuse's processor sets them at span start (`user.id`, `langfuse.trace.metadata.<k>`, …). */
  kv: OtlpKeyValue[];
}

const MAX_CHARS = 200;
const ENVIRONMENT = /^(?!langfuse)[a-z0-9_-]+$/;
const SCALARS = ['userId', 'sessionId', 'version', 'traceName'] as const;

function valid(value: unknown, name: string, warn: (detail: string) => void): value is string {
  if (typeof value !== 'string') {
    warn(`propagateAttributes: ${name} must be a string, dropped`);
    return false;
  }
  if (value.length > MAX_CHARS) {
    warn(`propagateAttributes: ${name} is over ${MAX_CHARS} characters (${value.length}), dropped`);
    return false;
  }
  return true;
}

/** `outer` with `given` merged in after Langfuse's checks; each key read once, in its own try. */
export function propagation(outer: Propagation | undefined, given: unknown, warn: (detail: string) => void): Propagation {
  const a: PropagatedAttributes = { ...outer?.a };
  if (given !== null && typeof given === 'object') {
    const read = (key: string): unknown => {
      try {
        return (given as Record<string, unknown>)[key];
      } catch {
        warn(`propagateAttributes: ${key} getter threw, ignored`);
        return undefined;
      }
    };
    for (const key of SCALARS) {
      const value = read(key);
      // Langfuse skips falsy values silently ('' included).
      if (value && valid(value, key, warn)) a[key] = value;
    }
    const environment = read('environment');
    if (environment !== undefined) {
      if (typeof environment === 'string' && environment.length <= 40 && ENVIRONMENT.test(environment)) a.environment = environment;
      else warn('propagateAttributes: environment must be [a-z0-9_-], at most 40 characters, not starting with "langfuse"; dropped');
    }
    const tags = read('tags');
    if (Array.isArray(tags) && tags.length > 0) {
      const kept = tags.filter((tag, i) => valid(tag, `tags[${i}]`, warn)) as string[];
      if (kept.length > 0) a.tags = [...new Set([...(a.tags ?? []), ...kept])];
    }
    const metadata = read('metadata');
    if (metadata && typeof metadata === 'object') {
      const kept: Record<string, string> = {};
      let any = false;
      for (const [key, value] of Object.entries(metadata)) {
        if (valid(value, `metadata.${key}`, warn)) {
          kept[key] = value;
          any = true;
        }
      }
      if (any) a.metadata = { ...a.metadata, ...kept };
    }
  } else if (given !== undefined) warn('propagateAttributes: attributes must be an object, ignored');
  const kv: OtlpKeyValue[] = [];
  const push = (key: string, value: unknown) => {
    const one = attr(key, value);
    if (one) kv.push(one);
  };
  push('user.id', a.userId);
  push('session.id', a.sessionId);
  push('langfuse.trace.name', a.traceName);
  push('langfuse.trace.tags', a.tags);
  for (const key in a.metadata) push('langfuse.trace.metadata.' + key, a.metadata[key]);
  return { a, kv };
}

import type { RelayLimits } from './options';

/** The ten observation types Langfuse maps from `langfuse.observation.type` (exact, lower case). */
export const OBSERVATION_TYPES = ['span', 'generation', 'event', 'agent', 'tool', 'chain', 'retriever', 'evaluator', 'embedding', 'guardrail'];
/** Langfuse's four levels (`langfuse.observation.level`). */
export const LEVELS = ['DEBUG', 'DEFAULT', 'WARNING', 'ERROR'];

type AnyValue = Record<string, unknown>;
export type KeyValue = { key: string; value: AnyValue };
type Problem = { path: (string | number)[]; message: string };

const VALUE_KINDS = ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'];

/** Checks one AnyValue: exactly one kind, scalars of the right JSON type, strings and lists bounded, nesting ≤ maxDepth. */
function checkValue(value: unknown, depth: number, limits: RelayLimits, path: (string | number)[]): Problem | undefined {
  if (value === undefined || value === null) return { path, message: 'a KeyValue without a value (Langfuse accepts such a batch, then drops it)' };
  if (typeof value !== 'object' || Array.isArray(value)) return { path, message: 'must be an AnyValue object' };
  const kinds = Object.keys(value).filter((k) => VALUE_KINDS.includes(k));
  if (kinds.length !== 1) {
    return { path, message: kinds.length === 0 ? 'a KeyValue without a value (an AnyValue needs stringValue, intValue, doubleValue, boolValue, arrayValue, kvlistValue or bytesValue)' : 'an AnyValue must have exactly one value' };
  }
  const kind = kinds[0]!;
  const v = (value as AnyValue)[kind];
  const at = [...path, kind];
  switch (kind) {
    case 'stringValue':
    case 'bytesValue':
      if (typeof v !== 'string') return { path: at, message: 'must be a string' };
      if (v.length > limits.maxValueChars) return { path: at, message: `is longer than ${limits.maxValueChars} characters` };
      return undefined;
    case 'boolValue':
      return typeof v === 'boolean' ? undefined : { path: at, message: 'must be true or false' };
    case 'intValue':
      return (typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'string' && /^-?\d{1,19}$/.test(v))
        ? undefined
        : { path: at, message: 'must be an integer (number or decimal string)' };
    case 'doubleValue':
      return (typeof v === 'number' && Number.isFinite(v)) || v === 'NaN' || v === 'Infinity' || v === '-Infinity'
        ? undefined
        : { path: at, message: 'must be a number' };
    default: {
      if (depth >= limits.maxDepth) return { path: at, message: `nests deeper than ${limits.maxDepth} levels` };
      const list = (v as { values?: unknown } | null)?.values;
      if (v === null || typeof v !== 'object' || (list !== undefined && !Array.isArray(list))) return { path: at, message: 'must be { values: [...] }' };
      const items = (list ?? []) as unknown[];
      if (items.length > limits.maxAttributes) return { path: [...at, 'values'], message: `has more than ${limits.maxAttributes} items` };
      for (let i = 0; i < items.length; i++) {
        const p = kind === 'arrayValue'
          ? checkValue(items[i], depth + 1, limits, [...at, 'values', i])
          : checkKeyValue(items[i], depth + 1, limits, [...at, 'values', i]);
        if (p) return p;
      }
      return undefined;
    }
  }
}

function checkKeyValue(kv: unknown, depth: number, limits: RelayLimits, path: (string | number)[]): Problem | undefined {
  if (kv === null || typeof kv !== 'object' || Array.isArray(kv)) return { path, message: 'must be a KeyValue { key, value }' };
  const { key, value } = kv as { key?: unknown; value?: unknown };
  if (typeof key !== 'string' || key === '') return { path: [...path, 'key'], message: 'must be a non-empty string' };
  if (key.length > 1024) return { path: [...path, 'key'], message: 'is longer than 1024 characters' };
  return checkValue(value, depth, limits, [...path, 'value']);
}

const str = (v: AnyValue) => (typeof v.stringValue === 'string' ? v.stringValue : undefined);
function jsonObjectOf(v: AnyValue, ok: (n: unknown) => boolean): boolean {
  const text = str(v);
  if (text === undefined) return false;
  try {
    const o = JSON.parse(text);
    return o !== null && typeof o === 'object' && !Array.isArray(o) && Object.values(o).every(ok);
  } catch {
    return false;
  }
}

/** What Langfuse's converter expects of its own attributes; a wrong type would be stored wrongly or dropped. */
const LANGFUSE_RULES: Record<string, [(v: AnyValue) => boolean, string]> = {
  'langfuse.observation.type': [(v) => OBSERVATION_TYPES.includes(str(v) ?? ''), `must be a stringValue, one of ${OBSERVATION_TYPES.join(', ')}`],
  'langfuse.observation.level': [(v) => LEVELS.includes(str(v) ?? ''), `must be a stringValue, one of ${LEVELS.join(', ')}`],
  'langfuse.observation.usage_details': [
    (v) => jsonObjectOf(v, (n) => typeof n === 'number' && Number.isInteger(n) && n >= 0),
    'must be a stringValue with a JSON object of non-negative integers',
  ],
  'langfuse.observation.cost_details': [
    (v) => jsonObjectOf(v, (n) => typeof n === 'number' && Number.isFinite(n) && n >= 0),
    'must be a stringValue with a JSON object of non-negative numbers',
  ],
  'langfuse.observation.completion_start_time': [(v) => !Number.isNaN(Date.parse(str(v) ?? '')), 'must be a stringValue with an ISO 8601 time'],
  'langfuse.trace.public': [(v) => typeof v.boolValue === 'boolean', 'must be a boolValue'],
};

/**
 * Checks a list of KeyValue: at most maxAttributes, each key and AnyValue bounded; with `langfuse`, Langfuse's own
 * attributes must also have the type its converter expects. Returns the first problem, if any.
 */
export function checkAttributes(list: unknown, limits: RelayLimits, path: (string | number)[], langfuse: boolean): Problem | undefined {
  if (list === undefined) return undefined;
  if (!Array.isArray(list)) return { path, message: 'must be a list of KeyValue' };
  if (list.length > limits.maxAttributes) return { path, message: `has ${list.length} attributes, more than ${limits.maxAttributes}` };
  for (let i = 0; i < list.length; i++) {
    const p = checkKeyValue(list[i], 0, limits, [...path, i]);
    if (p) return p;
    if (!langfuse) continue;
    const { key, value } = list[i] as KeyValue;
    const rule = LANGFUSE_RULES[key];
    if (rule && !rule[0](value)) return { path: [...path, i, 'value'], message: `${key} ${rule[1]}` };
  }
  return undefined;
}

import { fitsBytes } from '../core/encode';

/** Short marker strings that stand in for a value Outbox could not send as given. */
export const MARKER = {
  circular: '[outbox: circular reference]',
  unreadable: '[outbox: unreadable value]',
  toJson: '[outbox: toJSON threw]',
  deep: '[outbox: nested too deep]',
  notJson: '[outbox: not JSON-serializable]',
  maskFailed: '[outbox: mask failed]',
  tooLarge: (maxBytes: number) => `[outbox: value over ${maxBytes} bytes dropped]`,
  spanTooLarge: (maxBytes: number) => `[outbox: value dropped, span over ${maxBytes} bytes]`,
} as const;

/** Deepest nesting the slow path walks, and the most entries it reads of one object or array. */
const MAX_DEPTH = 64;
const MAX_ENTRIES = 10_000;

/**
 * A value as attribute text, as the Langfuse SDKs send it: a string as is, anything else as JSON. What JSON
 * cannot carry is replaced in place (a cycle, a throwing getter or toJSON, a hostile Proxy → a marker; a BigInt →
 * its decimal string) and each kind of replacement is named in `problems`. Lone surrogates become U+FFFD: JSON
 * would keep them as `\udXXX` escapes, which strict UTF-8 parsers on the receiving side refuse. A text over
 * `maxBytes` UTF-8 bytes becomes a marker. `text` is undefined only for undefined.
 */
export function toText(value: unknown, maxBytes: number): { text: string | undefined; problems: string[] } {
  const problems: string[] = [];
  if (value === undefined) return { text: undefined, problems };
  if (typeof value === 'string') {
    if (!fitsBytes(value, maxBytes)) return tooLarge(maxBytes, problems);
    return { text: wellFormed(value, problems), problems };
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    const found = new Set<string>();
    try {
      const copy = clean(value, 0, new Set(), found);
      // A whole value replaced by a marker is sent as the marker's text, like any string.
      text = typeof copy === 'string' && copy.startsWith('[outbox: ') ? copy : JSON.stringify(copy);
    } catch {
      found.add('unreadable value');
      text = MARKER.unreadable;
    }
    problems.push(...found);
  }
  if (text === undefined) {
    problems.push(`not JSON-serializable (${typeof value})`);
    return { text: MARKER.notJson, problems };
  }
  if (!fitsBytes(text, maxBytes)) return tooLarge(maxBytes, problems);
  return { text: wellFormedJson(text, problems), problems };
}

function tooLarge(maxBytes: number, problems: string[]): { text: string; problems: string[] } {
  problems.push(`over ${maxBytes} bytes, replaced by a marker`);
  return { text: MARKER.tooLarge(maxBytes), problems };
}

/** Any surrogate, paired or not: a string without one is well-formed as it is. */
export const SURROGATE = /[\ud800-\udfff]/;

/**
 * `text` with lone surrogates replaced by U+FFFD (a problem is noted when one was). JSON.stringify writes paired
 * surrogates as they are and lone ones as escapes, so the JSON repair below does this job too.
 */
export function wellFormed(text: string, problems: string[]): string {
  if (!SURROGATE.test(text)) return text;
  const json = JSON.stringify(text);
  const fixed = wellFormedJson(json, problems);
  return fixed === json ? text : (JSON.parse(fixed) as string);
}

// JSON.stringify writes paired surrogates as they are and lone ones as `\udXXX`; an escape is one only when an odd
// number of backslashes precedes the `u` (`\\ud800` is a backslash followed by text). No lookbehind: Safari < 16.4.
const LONE_ESCAPE = /(\\+)u(d[89a-f][0-9a-f]{2})/g;

function wellFormedJson(text: string, problems: string[]): string {
  if (text.indexOf('\\ud') === -1) return text;
  let replaced = false;
  const out = text.replace(LONE_ESCAPE, (match, slashes: string) => {
    if (slashes.length % 2 === 0) return match;
    replaced = true;
    return slashes.slice(1) + '\ufffd';
  });
  if (replaced) problems.push('lone surrogate replaced by U+FFFD');
  return out;
}

/** A JSON-safe copy of `value` (the slow path, after JSON.stringify threw), noting what it replaced. */
function clean(value: unknown, depth: number, ancestors: Set<object>, found: Set<string>): unknown {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return value;
    case 'bigint':
      found.add('BigInt written as a string');
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return null;
  const obj = value as Record<string, unknown>;
  if (ancestors.has(obj)) {
    found.add('circular reference');
    return MARKER.circular;
  }
  if (depth >= MAX_DEPTH) {
    found.add('nested too deep');
    return MARKER.deep;
  }
  ancestors.add(obj);
  try {
    let toJSON: unknown;
    try {
      toJSON = obj.toJSON;
    } catch {
      found.add('unreadable value');
      return MARKER.unreadable;
    }
    if (typeof toJSON === 'function') {
      let replaced: unknown;
      try {
        replaced = toJSON.call(obj, '');
      } catch {
        found.add('toJSON threw');
        return MARKER.toJson;
      }
      return clean(replaced, depth + 1, ancestors, found);
    }
    if (value instanceof Number || value instanceof String || value instanceof Boolean) return value.valueOf();
    // An array keeps its length (a value JSON cannot carry becomes null); an object drops such keys.
    const array = Array.isArray(obj);
    const out: Record<string, unknown> | unknown[] = array ? [] : Object.create(null);
    const size = array ? obj.length : 0;
    const keys = array ? Array.from({ length: Math.min(size, MAX_ENTRIES) }, (_, i) => String(i)) : Object.keys(obj);
    if (array ? size > MAX_ENTRIES : keys.length > MAX_ENTRIES) found.add(array ? `array over ${MAX_ENTRIES} items cut` : `object over ${MAX_ENTRIES} keys cut`);
    for (let i = 0; i < keys.length && i < MAX_ENTRIES; i++) {
      const key = keys[i]!;
      let copy: unknown;
      try {
        copy = clean(obj[key], depth + 1, ancestors, found);
      } catch {
        found.add('unreadable value'); // a getter that threw
        copy = MARKER.unreadable;
      }
      if (array) (out as unknown[]).push(copy === undefined ? null : copy);
      else if (copy !== undefined) (out as Record<string, unknown>)[key] = copy;
    }
    return out;
  } catch {
    found.add('unreadable value');
    return MARKER.unreadable;
  } finally {
    ancestors.delete(obj);
  }
}

import { utf8Length } from '../core/encode';
import type { OtlpSpan } from '../wire/otlp';
import { MARKER } from './json';

/** Bytes a span's JSON has besides its string attribute values (ids, times, keys, punctuation), per attribute and fixed. */
const PER_ATTRIBUTE = 40;
const FIXED = 400;

/**
 * Keeps a span's JSON under `maxBytes` by replacing its largest string attribute values with a marker, largest
 * first, so an oversized span loses a value instead of being dropped whole by the queue's maxEventBytes. The size is
 * an upper estimate (keys and escapes are counted generously). Calls `warn` for each replaced value.
 */
export function fitSpan(span: OtlpSpan, maxBytes: number, warn: (detail: string) => void): void {
  const attributes = span.attributes;
  let bound = FIXED + span.name.length * 6;
  for (const kv of attributes) {
    const v = kv.value as { stringValue?: string };
    bound += PER_ATTRIBUTE + kv.key.length + (v.stringValue === undefined ? 0 : v.stringValue.length * 6);
  }
  if (bound <= maxBytes) return; // the common case: no byte counting at all

  // JSON escapes can turn one UTF-16 unit into six bytes (\u0000); count what is there.
  const sizes = attributes.map((kv) => {
    const s = (kv.value as { stringValue?: string }).stringValue;
    return s === undefined ? 0 : utf8Length(JSON.stringify(s));
  });
  let total = utf8Length(JSON.stringify(span));
  const order = sizes.map((_, i) => i).sort((a, b) => sizes[b]! - sizes[a]!);
  const marker = MARKER.spanTooLarge(maxBytes);
  for (const i of order) {
    if (total <= maxBytes || sizes[i]! <= marker.length + 2) break;
    const key = attributes[i]!.key;
    total -= sizes[i]! - (marker.length + 2);
    // A new KeyValue, not an edit: trace attributes are shared by every span of their trace.
    attributes[i] = { key, value: { stringValue: marker } };
    warn(`${key}: the span is over ${maxBytes} bytes, value replaced by a marker`);
  }
}

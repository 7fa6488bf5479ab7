import type { QueuedEvent } from './types';

let lastTs = NaN;
let lastIso = '';

/** ISO 8601 of epoch ms; a burst shares its millisecond, so the last one is cached. */
function isoTime(ts: number): string {
  if (ts !== lastTs) {
    lastIso = new Date(ts).toISOString();
    lastTs = ts;
  }
  return lastIso;
}

/**
 * Serializes one event to its wire line. Throws on bodies JSON cannot represent (circular, BigInt); returns
 * undefined for a body that serializes to nothing (a function, a symbol).
 */
export function encodeEvent(event: QueuedEvent): string | undefined {
  const body = event.body === undefined ? '{}' : JSON.stringify(event.body);
  if (body === undefined) return undefined;
  return (
    '{"id":' + JSON.stringify(event.id) +
    ',"type":' + JSON.stringify(event.type) +
    ',"timestamp":"' + isoTime(event.ts) +
    '","body":' + body + '}'
  );
}

/**
 * UTF-8 byte length of a string, without allocating (lone surrogates count 3, as TextEncoder writes U+FFFD). The
 * ASCII prefix is skipped by a regular-expression scan, several times faster than charCodeAt (the common case: JSON
 * of ASCII text is all of it); units are counted one by one from the first non-ASCII one on.
 */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = text.search(/[^\0-\x7f]/); i >= 0 && i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else {
      bytes += 2;
      // A surrogate pair is 4 bytes for two UTF-16 units: its second unit adds nothing more.
      if (c >= 0xd800 && c <= 0xdbff) {
        const next = text.charCodeAt(i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) i++;
      }
    }
  }
  return bytes;
}

/** True when `text` has at most `maxBytes` UTF-8 bytes (counted only when its length leaves doubt). */
export function fitsBytes(text: string, maxBytes: number): boolean {
  if (text.length * 3 <= maxBytes) return true;
  if (text.length > maxBytes) return false;
  return utf8Length(text) <= maxBytes;
}

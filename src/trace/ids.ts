/**
 * Trace ids (32 hex digits) and span ids (16) from the pooled random bytes of core/hex.ts: one `fill` call per 4 KiB
 * (256 trace ids or 512 span ids) and a byte → hex table, instead of a crypto call per id (see core/uuid.ts).
 */
import { createBytePool, HEX } from '../core/hex';

/** Makes random lowercase-hex ids from `fill`; an all-zero id (invalid in OTLP) is never returned. */
export function createIds(fill: (buffer: Uint8Array) => void): { traceId(): string; spanId(): string } {
  const pool = createBytePool(fill);
  function hex(bytes: number): string {
    const start = pool.take(bytes);
    let id = '';
    let any = 0;
    for (let i = start; i < start + bytes; i++) {
      id += HEX[pool.bytes[i]!]!;
      any |= pool.bytes[i]!;
    }
    // All zero is invalid in OTLP; at odds of 2^-64 (or a broken fill) the last digit becomes 1 rather than looping.
    return any !== 0 ? id : id.slice(0, -1) + '1';
  }
  return { traceId: () => hex(16), spanId: () => hex(8) };
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;

/**
 * A trace id (`digits` 32) or span id (16) given by the host, lowercased; undefined unless it is exactly that many
 * hex digits and not all zero.
 */
export function normalizeHexId(value: unknown, digits: 32 | 16): string | undefined {
  if (typeof value !== 'string') return undefined;
  const id = value.toLowerCase();
  if (!(digits === 32 ? TRACE_ID : SPAN_ID).test(id)) return undefined;
  return /^0+$/.test(id) ? undefined : id;
}

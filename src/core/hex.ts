/** Byte → its two lowercase hex digits. */
export const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => (i + 0x100).toString(16).slice(1));

/** Random bytes are taken from a pool this large, refilled by one `fill` call when what is left is too short. */
const POOL_BYTES = 4096;

/**
 * A pooled source of random bytes for id makers (core/uuid.ts, trace/ids.ts): one `fill` call per 4 KiB instead of
 * a crypto call per id. `take(n)` returns the offset in `bytes` where `n` fresh bytes start.
 */
export function createBytePool(fill: (buffer: Uint8Array) => void): { bytes: Uint8Array; take(n: number): number } {
  const bytes = new Uint8Array(POOL_BYTES);
  let offset = POOL_BYTES;
  return {
    bytes,
    take(n) {
      if (offset + n > POOL_BYTES) {
        fill(bytes);
        offset = 0;
      }
      offset += n;
      return offset - n;
    },
  };
}

/** Latest time a JS Date can hold, in epoch ms. */
const MAX_MS = 8.64e15;
const ISO_START = /^\d{4}-\d{2}-\d{2}/;

/** Epoch ms of a Date, epoch-ms number or ISO 8601 string; undefined for anything else or out of range. */
export function toEpochMs(value: unknown): number | undefined {
  let ms: number;
  try {
    if (typeof value === 'number') ms = value;
    else if (typeof value === 'string') ms = ISO_START.test(value) ? Date.parse(value) : NaN;
    else if (value instanceof Date) ms = value.getTime();
    else return undefined;
  } catch {
    return undefined;
  }
  return Number.isFinite(ms) && ms >= 0 && ms <= MAX_MS ? ms : undefined;
}

/**
 * Epoch ms as OTLP's unix-nanosecond decimal string, built as text so no float rounding shows (1.5 ms →
 * "1500000"); sub-microsecond digits are rounded away.
 */
export function unixNano(ms: number): string {
  const micros = Math.round(ms * 1000);
  return micros === 0 ? '0' : String(micros) + '000';
}

/** ISO 8601 (UTC, ms) of epoch ms. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

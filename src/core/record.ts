import { fitsBytes } from './encode';
import { errorText } from './errors';
import type { DropReason, QueuedEvent, StoredEvent, TrackOptions, Wire } from './types';

/** Why a record cannot be queued, or undefined when it can. */
export function checkRecord(type: unknown, id: unknown): string | undefined {
  if (typeof type !== 'string' || type === '' || type.length > 200) return 'type must be a non-empty string of ≤ 200 characters';
  if (typeof id !== 'string' || id === '' || id.length > 200) return 'id must be a non-empty string of ≤ 200 characters';
  return undefined;
}

/** Epoch ms of a `timestamp` option (Date, ISO string or epoch ms); `now` when absent; NaN when unusable. */
export function parseTimestamp(value: TrackOptions['timestamp'], now: number): number {
  if (value === undefined) return now;
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : value;
  return typeof ms === 'number' && Number.isFinite(ms) ? ms : NaN;
}

/**
 * Seals one record: its wire line, or why it must be dropped (JSON cannot carry the body, or the line is over
 * `limit` bytes). The record is not changed: the client stores the line and releases the body.
 */
export function sealRecord(record: QueuedEvent, wire: Wire, limit: number): { line: string } | { reason: DropReason; detail: string } {
  let line: string | undefined;
  try {
    line = wire.encodeRecord(record);
  } catch (error) {
    return { reason: 'invalid', detail: `body is not JSON-serializable: ${errorText(error)}` };
  }
  if (line === undefined) return { reason: 'invalid', detail: 'body is not JSON-serializable' };
  if (!fitsBytes(line, limit)) {
    return { reason: 'too-large', detail: `record is larger than maxEventBytes (${limit})` };
  }
  return { line };
}

/** The stored form of a record: its own fields only (no sentAt, no body), the wire only when not the default. */
export function plain(e: StoredEvent): StoredEvent {
  return e.wire ? { id: e.id, type: e.type, ts: e.ts, line: e.line, wire: e.wire } : { id: e.id, type: e.type, ts: e.ts, line: e.line };
}

import { errorText, safeString } from './errors';
import { checkRecord, parseTimestamp, sealRecord } from './record';
import { heldCount, queueOf, type Core, type Queued } from './state';
import type { DropReason, StoredEvent, TrackOptions } from './types';
import type { Wire, WireName } from '../core/types';

/** Room kept in a batch for the envelope, at least: a wire's own measure may be smaller. */
const ENVELOPE_RESERVE = 512;

/** Characters of record lines one batch of this wire may carry. */
export function batchRoom(core: Core, wire: Wire): number {
  return core.options.maxBatchBytes - Math.max(ENVELOPE_RESERVE, wire.envelopeBytes);
}

/** A record handed to the client by an API on top of it (observations, scores, an OTel processor). */
export interface NewRecord {
  id: string;
  type: string;
  /** Epoch ms. */
  ts: number;
  body: unknown;
  wire: WireName;
}

/** Counts a drop; `onDrop` hears of it at the end of the task. */
export function drop(core: Core, reason: DropReason, records: readonly { id: string; type: string }[], detail?: string): void {
  if (core.report.drop(reason, records, detail)) core.scheduler.endOfTask();
}

function enqueue(core: Core, record: Queued): boolean {
  if (heldCount(core) >= core.options.maxQueueEvents) {
    drop(core, 'queue-full', [record], `maxQueueEvents (${core.options.maxQueueEvents}) reached`);
    return false;
  }
  queueOf(core, record.wire ?? 'ingestion').push(record);
  core.scheduler.endOfTask();
  core.onQueued?.();
  return true;
}

/** `outbox.track()`: validates and queues a raw ingestion event. Never throws; '' when it was dropped. */
export function track(core: Core, type: string, body?: unknown, opts?: TrackOptions): string {
  core.report.counts.tracked++;
  try {
    const id = opts?.id === undefined ? core.uuid() : opts.id;
    if (core.closed) {
      drop(core, 'shutdown', [{ id: safeString(id), type: safeString(type) }]);
      return '';
    }
    const invalid = checkRecord(type, id);
    if (invalid) {
      drop(core, 'invalid', [{ id: safeString(id), type: safeString(type) }], invalid);
      return '';
    }
    const ts = parseTimestamp(opts?.timestamp, core.clock.now());
    if (Number.isNaN(ts)) {
      drop(core, 'invalid', [{ id, type }], 'timestamp must be a Date, an ISO string or epoch ms');
      return '';
    }
    return enqueue(core, { id, type, ts, body, seq: ++core.seq }) ? id : '';
  } catch (error) {
    drop(core, 'invalid', [{ id: '', type: safeString(type) }], errorText(error));
    return '';
  }
}

/** Queues a record built by a layer above. Returns false when it was dropped. */
export function pushRecord(core: Core, record: NewRecord): boolean {
  core.report.counts.tracked++;
  if (core.closed) {
    drop(core, 'shutdown', [record]);
    return false;
  }
  return enqueue(core, { id: record.id, type: record.type, ts: record.ts, body: record.body, wire: record.wire, seq: ++core.seq });
}

/** Serializes pending records of every wire; drops the ones that cannot be sent. Returns the new ones. */
export function seal(core: Core): StoredEvent[] {
  const fresh: StoredEvent[] = [];
  for (const [name, queue] of core.queues) {
    const wire = core.wires[name];
    const limit = wire ? Math.min(core.options.maxEventBytes, batchRoom(core, wire)) : 0;
    queue.sealPending((record) => {
      const sealed = wire ? sealRecord(record, wire, limit) : { reason: 'invalid' as const, detail: `no ${name} endpoint is configured for this record` };
      if ('reason' in sealed) {
        record.body = undefined;
        drop(core, sealed.reason, [record], sealed.detail);
        return false;
      }
      record.line = sealed.line;
      fresh.push(record as StoredEvent);
      return true;
    });
  }
  return fresh;
}

/** Writes records ahead to storage (one call per coalesced burst); a failure is reported, never thrown. */
export function persist(core: Core, events: StoredEvent[]): void {
  if (!core.storage || events.length === 0) return;
  core.storage.append(events).catch((error) => core.report.error(new Error(`storage append failed; events stay in memory: ${errorText(error)}`)));
}

/** Seals what is pending and writes it ahead. */
export function sealAndPersist(core: Core): void {
  persist(core, seal(core));
}

/** Forgets records that left the client (acknowledged, handed off, dropped). */
export function forget(core: Core, events: StoredEvent[]): void {
  if (!core.storage || events.length === 0) return;
  core.storage.remove(events.map((e) => e.id)).catch((error) => core.report.error(new Error(`storage remove failed: ${errorText(error)}`)));
}

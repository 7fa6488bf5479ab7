import { callHost, errorText } from './errors';
import { DROP_REASONS, type DropInfo, type DropReason, type FlushReason } from './types';

/** What the report needs of the options. */
export interface ReportOptions {
  debug: boolean;
  onDrop?: (info: DropInfo) => void;
  onError?: (error: Error) => void;
}

/** The client's counters, as `stats()` shows them. */
export interface Counts {
  tracked: number;
  recovered: number;
  sent: number;
  handedOff: number;
  retried: number;
  requests: number;
}

/**
 * The client's account book, the only owner of its counters: counters, drops by reason (grouped and handed to
 * `onDrop` at the end of the task), operational errors (`onError`, `lastError`), why the last flush started, the
 * debug log and warn-once console warnings.
 */
export interface Report {
  /** Adds `n` (default 1) to a counter. */
  count(counter: keyof Counts, n?: number): void;
  /** Why the last flush started (`stats().lastFlushReason`). */
  flushReason(reason: FlushReason): void;
  /** A failure the client handles itself (a send it retries): `stats().lastError`, not `onError`. */
  failed(message: string): void;
  /** Counts a drop now; `onDrop` hears of it at the next `flushDrops()`. Returns true when a flush is needed. */
  drop(reason: DropReason, records: readonly { id: string; type: string }[], detail?: string): boolean;
  /** Hands the drops grouped so far to `onDrop`, one call per reason. */
  flushDrops(): void;
  /** An operational error: `lastError`, the debug log and `onError`. */
  error(error: unknown): void;
  log(...args: unknown[]): void;
  /** One console warning per key for the client's life (a misconfiguration the host should hear of once). */
  warnOnce(key: string, message: string): void;
  /** A copy of the counters and drops, and the last flush reason and error. */
  snapshot(): { counts: Counts; dropped: Record<DropReason, number>; lastFlushReason?: FlushReason; lastError?: string };
}

export function createReport(options: ReportOptions, logger: Pick<Console, 'debug' | 'warn'>): Report {
  const counts: Counts = { tracked: 0, recovered: 0, sent: 0, handedOff: 0, retried: 0, requests: 0 };
  const dropped = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  let lastError: string | undefined;
  let lastFlushReason: FlushReason | undefined;
  const pending = new Map<DropReason, DropInfo>();
  const warned = new Set<string>();
  const log = (...args: unknown[]) => {
    if (options.debug) logger.debug('[outbox]', ...args);
  };
  return {
    count(counter, n = 1) {
      counts[counter] += n;
    },
    flushReason(reason) {
      lastFlushReason = reason;
    },
    failed(message) {
      lastError = message;
    },
    drop(reason, records, detail) {
      if (records.length === 0) return false;
      dropped[reason] += records.length;
      let info = pending.get(reason);
      if (!info) pending.set(reason, (info = { reason, count: 0, events: [] }));
      info.count += records.length;
      for (const r of records) info.events.push({ id: r.id, type: r.type });
      if (detail && !info.detail) info.detail = detail;
      return true;
    },
    flushDrops() {
      if (pending.size === 0) return;
      const infos = [...pending.values()];
      pending.clear();
      for (const info of infos) {
        log(`dropped ${info.count} record(s): ${info.reason}${info.detail ? ` (${info.detail})` : ''}`);
        callHost(options.onDrop, info);
      }
    },
    error(error) {
      const err = error instanceof Error ? error : new Error(errorText(error));
      lastError = err.message;
      log('error:', err.message);
      callHost(options.onError, err);
    },
    log,
    warnOnce(key, message) {
      if (warned.has(key)) return;
      warned.add(key);
      try {
        logger.warn('[outbox]', message);
      } catch {
        /* a console that throws must not break the client */
      }
    },
    snapshot: () => ({ counts: { ...counts }, dropped: { ...dropped }, lastFlushReason, lastError }),
  };
}

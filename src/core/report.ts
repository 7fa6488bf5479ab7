import { callHost, errorText } from './errors';
import { DROP_REASONS, type DropInfo, type DropReason, type FlushReason } from './types';

/** What the report needs of the options. */
export interface ReportOptions {
  debug: boolean;
  onDrop?: (info: DropInfo) => void;
  onError?: (error: Error) => void;
  /** Where records go, named in the warnings (the first that is set). */
  relay?: string;
  baseUrl?: string;
  tracesEndpoint?: string;
  endpoint?: string;
  /** Only whether it is set matters (which keys a 401 tells the user to check); never printed. */
  secretKey?: string;
}

const MORE = ' (onDrop/onError to handle it yourself; debug: true for more)';

/**
 * The console warning for the first drop of a reason when the host passed no onDrop: what happened and what to do
 * (401/403: which keys; a shutdown after failed sends: the address and the last error; a refusal: the server's words).
 */
function dropWarning(o: ReportOptions, where: string, info: DropInfo, lastError: string | undefined): string {
  const d = info.detail ?? '';
  const keys =
    o.relay !== undefined
      ? "publicKey (one of the relay's, its LANGFUSE_PUBLIC_KEY)"
      : o.secretKey !== undefined
        ? 'publicKey and secretKey (LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY) are keys of that project'
        : 'publicKey (LANGFUSE_PUBLIC_KEY); traces need secretKey, so a page sends them through outbox/relay';
  const what =
    info.reason === 'rejected'
      ? /\b40[13]\b/.test(d)
        ? `refused by ${where}: ${d}; check that ${keys}`
        : `refused by ${where}: ${d}`
      : info.reason === 'shutdown' && lastError !== undefined
        ? `not delivered before shutdown; last error: ${lastError}; is ${where} right and reachable?`
        : `${info.reason}${d ? `: ${d}` : ''}`;
  return `${info.count} record(s) dropped, ${what}${MORE}`;
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
  const where = options.relay ?? options.baseUrl ?? options.tracesEndpoint ?? options.endpoint ?? 'the server';
  const log = (...args: unknown[]) => {
    if (options.debug) logger.debug('[outbox]', ...args);
  };
  function warnOnce(key: string, message: string): void {
    if (warned.has(key)) return;
    warned.add(key);
    try {
      logger.warn('[outbox]', message);
    } catch {
      /* a console that throws must not break the client */
    }
  }
  return {
    count(counter, n = 1) {
      counts[counter] += n;
    },
    flushReason(reason) {
      lastFlushReason = reason;
    },
    failed(message) {
      lastError = message;
      // A send that cannot reach the server, or that the server answered 5xx/429, is retried for as long as the
      // retry options allow: say so once, with the address and the server's words, rather than only at the drop.
      if (!options.onError && /^(network|request timed|HTTP (5\d\d|429))/.test(message)) {
        warnOnce('retry', `sending to ${where} failed (${message}); kept and retried; check baseUrl (LANGFUSE_BASE_URL)${MORE}`);
      }
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
        if (options.onDrop) callHost(options.onDrop, info);
        else warnOnce(info.reason, dropWarning(options, where, info, lastError));
      }
    },
    error(error) {
      const err = error instanceof Error ? error : new Error(errorText(error));
      lastError = err.message;
      log('error:', err.message);
      if (options.onError) callHost(options.onError, err);
      else warnOnce('error', err.message + MORE);
    },
    log,
    warnOnce,
    snapshot: () => ({ counts: { ...counts }, dropped: { ...dropped }, lastFlushReason, lastError }),
  };
}

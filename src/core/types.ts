/** Why an event left Outbox without being acknowledged. */
export type DropReason =
  | 'invalid'
  | 'too-large'
  | 'queue-full'
  | 'rejected'
  | 'retry-exhausted'
  | 'expired'
  | 'shutdown';

export const DROP_REASONS: readonly DropReason[] = [
  'invalid',
  'too-large',
  'queue-full',
  'rejected',
  'retry-exhausted',
  'expired',
  'shutdown',
];

/** What `onDrop` receives: the reason, how many events, and their ids/types (bodies are not retained). */
export interface DropInfo {
  reason: DropReason;
  count: number;
  events: { id: string; type: string }[];
  /** Human-readable detail, e.g. the server's message or the serialization error. */
  detail?: string;
}

/** An event as the client keeps it. `line` is its wire JSON, set once the event is sealed (end of task). */
export interface QueuedEvent {
  id: string;
  type: string;
  /** Epoch milliseconds. */
  ts: number;
  /** The body as given to track(), until sealed. */
  body?: unknown;
  /** The record's wire line once sealed: `{"id":…,"type":…,"timestamp":…,"body":…}` (ingestion) or an OTLP span. */
  line?: string;
  /** The wire it travels on; absent means 'ingestion' (so v1 records in IndexedDB stay valid). */
  wire?: WireName;
}

/** A sealed event as storage keeps it. */
export interface StoredEvent {
  id: string;
  type: string;
  ts: number;
  line: string;
  /** Absent means 'ingestion'. */
  wire?: WireName;
}

/** A batch ready to send: one request body, for one wire. */
export interface OutgoingBatch {
  batchId: string;
  /** Where and how it goes: URL, headers, gzip allowed, how its answer reads. */
  wire: Wire;
  events: StoredEvent[];
  /** The encoded JSON body. */
  body: string;
  /** UTF-8 byte length of `body`. */
  bytes: number;
}

/**
 * How a send ended, as a value (transports never throw):
 * - `ok`: every event acknowledged;
 * - `partial`: a 207; `retry` ids failed with 5xx/429 (or were not mentioned), `rejected` failed permanently;
 * - `retry`: the whole batch failed transiently (network error, timeout, 408/429/5xx);
 * - `too-large`: 413, the batch should be split;
 * - `rejected`: a permanent 4xx for the whole batch;
 * - `handed-off`: a service worker took ownership (202 with `Outbox-Queued: 1`).
 */
export type SendResult =
  /** `rejectedCount`: an OTLP partial success, spans the server refused without saying which (never retried). */
  | { kind: 'ok'; rejectedCount?: number; message?: string }
  | { kind: 'partial'; retry: string[]; rejected: { id: string; status: number; message?: string }[] }
  | { kind: 'retry'; network: boolean; status?: number; retryAfterMs?: number; error: string }
  | { kind: 'too-large' }
  /** `bisect`: the server refuses a whole batch for one bad record (Langfuse's OTLP 400): split to find it. */
  | { kind: 'rejected'; status: number; error: string; bisect?: boolean }
  | { kind: 'handed-off' };

/** Sends one encoded batch. Resolves a SendResult; never rejects. */
export interface Transport {
  send(batch: OutgoingBatch): Promise<SendResult>;
}

/**
 * Durable mirror of the queue (write-ahead). The client keeps its own memory queue; storage only makes
 * events survive the process. Every method resolves or rejects; rejections are reported, never thrown to the host.
 */
export interface Storage {
  /** True when what is stored outlives the page/process (IndexedDB): shutdown then keeps, rather than drops, what it could not send. */
  readonly durable: boolean;
  /** Persist sealed events (one call per coalesced burst). */
  append(events: StoredEvent[]): Promise<void>;
  /** Forget events that were acknowledged, handed off or dropped. */
  remove(ids: string[]): Promise<void>;
  /**
   * Mark events as sent by an unload path whose fate is unknown (a beacon): they stay stored, and recover() returns
   * them again only after a grace period (at-least-once; the collector deduplicates).
   */
  markSent?(ids: string[], at: number): Promise<void>;
  /**
   * Events left by an earlier run that this client should send, oldest first; at most `max` (room left under
   * maxQueueEvents) where the store can leave the rest for later.
   */
  recover(max?: number): Promise<StoredEvent[]>;
  /** Release connections, locks and listeners. */
  close(): Promise<void>;
  /** True once the write that stored this record has committed (durable stores); shutdown keeps only those. */
  isCommitted?(id: string): boolean;
  /** True when every record this store was given is committed now (no failed or pending write). */
  durableNow?(): boolean;
}

/** Clock and timers, injectable so the scheduler can be tested with a fake clock. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Counters returned by `stats()`. */
export interface OutboxStats {
  /** track() calls, including the ones dropped at once. */
  tracked: number;
  /** Events found in storage from an earlier run and queued again. tracked + recovered = sent + handedOff + queued + inflight + all dropped. */
  recovered: number;
  /** Events waiting in the queue (not yet in a request). */
  queued: number;
  /** Events in requests that have not answered yet. */
  inflight: number;
  /** Events acknowledged by the server. */
  sent: number;
  /** Events handed to a service worker's sync queue. */
  handedOff: number;
  /** Event sends that failed transiently and were scheduled again. */
  retried: number;
  /** Requests made. */
  requests: number;
  /** Events dropped, by reason. */
  dropped: Record<DropReason, number>;
  /** True when every record held is in durable storage right now (IndexedDB written; false with memory storage). */
  durable: boolean;
  /** Why the last flush started. */
  lastFlushReason?: FlushReason;
  lastError?: string;
}

export type FlushReason = 'count' | 'timer' | 'bytes' | 'manual' | 'retry' | 'hide' | 'shutdown' | 'recovery';

/** The core client's part of the public object: queue, flush, shutdown, stats. */
export interface CoreOutbox {
  /**
   * Queue an event. Never throws and never awaits; returns the event id ('' if the event was dropped at once).
   * The body is serialized at the end of the current task.
   */
  track(type: string, body?: unknown, options?: TrackOptions): string;
  /** Send everything queued now; resolves when each batch is acked, handed off or re-queued. Never rejects. */
  flush(): Promise<void>;
  /** Flush, await every request, stop timers and listeners; later calls are dropped ('shutdown'). Idempotent. */
  shutdown(): Promise<void>;
  stats(): OutboxStats;
}

export interface TrackOptions {
  /** Event id; default a v4 UUID. */
  id?: string;
  /** Date, ISO string or epoch ms; default now. */
  timestamp?: Date | string | number;
}

/** The wire a record travels on. A batch never mixes wires. */
export type WireName = 'ingestion' | 'otlp';

/** What a wire reads of an HTTP answer; a fetch `Response` fits. */
export interface Answer {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/**
 * A wire turns a batch of records of one kind into a request (URL, headers, body) and an answer into a
 * SendResult. Wires touch no platform global; transports (fetch, unload, service worker) do the I/O.
 */
export interface Wire {
  readonly name: WireName;
  /** Absolute URL every batch of this wire is POSTed to. */
  readonly url: string;
  /** Headers of every request: Content-Type, Authorization, the user's `headers`. */
  readonly headers: Record<string, string>;
  /** True when the receiver takes `Content-Encoding: gzip` (never Langfuse's /ingestion). */
  readonly gzip: boolean;
  /** Upper bound, in bytes, of the envelope `encodeBatch` puts around the record lines. */
  readonly envelopeBytes: number;
  /**
   * One record's wire line (JSON text) from its body; throws on what JSON cannot carry (circular, BigInt) and
   * returns undefined for a body that serializes to nothing.
   */
  encodeRecord(record: QueuedEvent): string | undefined;
  /** The request body for sealed records (their `line`s), in order. */
  encodeBatch(batchId: string, records: StoredEvent[]): string;
  /**
   * What an answer means for the batch whose record ids are `ids`. Rejects only when a body it must read cannot
   * be read (a stalled or aborted response); senders map that to a network retry.
   */
  answer(response: Answer, ids: string[], now: number): Promise<SendResult>;
}

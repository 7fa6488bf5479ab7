// Type declarations for server.mjs (so strict TypeScript can import the collector in tests).

export declare const INGESTION_PATH: '/api/public/ingestion';

export interface CollectorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** SQLite file, or ':memory:' (default). File databases use WAL. */
  dbPath?: string;
  /** Raw body limit (413 above); default 5 MiB. */
  maxBodyBytes?: number;
  /** Decoded (inflated) body limit (413 above); default 20 MiB. */
  maxInflatedBytes?: number;
  /** CORS origins; null (default) echoes any Origin. */
  allowedOrigins?: string[] | null;
  /** Accepted public keys; null (default) accepts any key, or none. */
  publicKeys?: string[] | null;
  /** Directories served (GET/HEAD, no-store) under URL prefixes, e.g. { prefix: '/demo/', dir: '/abs/path' }. */
  staticDirs?: { prefix: string; dir: string }[];
}

export interface StoredEvent {
  id: string;
  type: string;
  timestamp: string;
  body: unknown;
  batchId: string | null;
  /** ms epoch */
  receivedAt: number;
  /** arrival order, from 1 */
  seq: number;
}

export interface CollectorStats {
  requests: number;
  /** Answers by status code; '0' counts requests that got no answer (fault 'down', client gone). */
  byStatus: Record<string, number>;
  eventsReceived: number;
  /** Events in the store. */
  eventsStored: number;
  duplicates: number;
  /** Raw (undecoded) body bytes. */
  bytesReceived: number;
  invalidEvents: number;
}

export type AuthKind = 'bearer' | 'basic' | 'query' | 'none';

export interface RequestLogEntry {
  /** ms epoch when the request arrived */
  at: number;
  /** 0 when no answer was delivered */
  status: number;
  /** events in the batch, 0 if unparsed */
  count: number;
  ids: (string | null)[];
  contentType: string | null;
  contentEncoding: string | null;
  auth: AuthKind;
  bytes: number;
  url: string;
}

export type Fault = (
  | { mode: 'none' }
  | { mode: 'down' }
  | { mode: 'status'; status: number; retryAfter?: string }
  | { mode: 'slow'; delayMs: number }
  | { mode: 'fail-ids'; ids: Record<string, number> }
) & { times?: number };

export interface Collector {
  /** e.g. 'http://127.0.0.1:41234' */
  readonly url: string;
  readonly port: number;
  /** url + '/api/public/ingestion' */
  readonly endpoint: string;
  /** Stops the server, destroys open sockets, closes the database; idempotent. */
  close(): Promise<void>;
  /** Stored events in arrival order (`after`: only seq > after). */
  events(query?: { after?: number; limit?: number }): StoredEvent[];
  stats(): CollectorStats;
  /** The last 10 000 ingestion requests, oldest first. */
  requests(): RequestLogEntry[];
  /** The fault in force (`times` = remaining requests, if limited). */
  fault(): Fault;
  /** Throws a TypeError on an invalid fault. */
  setFault(fault: Fault): void;
  /** Clears events, counters, the request log and the fault. */
  reset(): void;
  /** Resolves with the predicate's value once truthy (polled every 25 ms); rejects on timeout (default 10 s). */
  waitFor<T>(predicate: (collector: Collector) => T | Promise<T>, timeoutMs?: number): Promise<T>;
}

export declare function startCollector(opts?: CollectorOptions): Promise<Collector>;

// Type declarations for server.mjs (so strict TypeScript can import the collector in tests).

export declare const INGESTION_PATH: '/api/public/ingestion';
export declare const OTLP_PATH: '/api/public/otel/v1/traces';

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
  /** Accepted public keys; null (default) accepts any key, or none (the OTLP route always needs Basic pk:sk). */
  publicKeys?: string[] | null;
  /** Accepted secret keys of `Basic pk:sk`; null (default) accepts any secret. */
  secretKeys?: string[] | null;
  /**
   * How /api/public/ingestion answers. 'v3' (default): every event type; Bearer, Basic or `?pk=`; text/plain and
   * gzip bodies. 'v4', as Langfuse v4: only score-create and sdk-log (others: per-event 400 "Event type not
   * accepted"), Bearer may send scores only, score rules enforced, only the Authorization header authenticates,
   * only application/json without Content-Encoding. Tests of the v4 paths start the collector with 'v4'.
   */
  langfuse?: 'v3' | 'v4';
  /** In 'v4' mode, accept text/plain bodies, gzip and `?pk=` on /ingestion, as a relay would. Default false. */
  acceptBeacons?: boolean;
  /** Directories served (GET/HEAD, no-store) under URL prefixes, e.g. { prefix: '/demo/', dir: '/abs/path' }. */
  staticDirs?: { prefix: string; dir: string }[];
  /**
   * Request listeners routed before the collector's own routes (ingestion, OTLP, control, static): a request whose
   * path is `prefix` or starts with `prefix + '/'` goes to `listener`, first match wins. E.g. a relay:
   * `{ prefix: '/lf', listener: toNodeListener(createRelay({ … })) }`. The listener answers the request itself;
   * faults, CORS and the request log do not apply to it. Throws a TypeError at start for a bad prefix or listener.
   */
  mounts?: Mount[];
}

export interface Mount {
  /** A path like '/lf': starts with '/', no trailing slash. */
  prefix: string;
  listener: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
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
  /** Requests of both ingestion routes (/ingestion and OTLP). */
  requests: number;
  /** Answers by status code; '0' counts requests that got no answer (fault 'down', client gone). */
  byStatus: Record<string, number>;
  /** Ingestion events received (in envelopes that parsed). */
  eventsReceived: number;
  /** Events in the store. */
  eventsStored: number;
  /** Ingestion events whose id was already stored (answered 201, not stored again). Spans: `spanDuplicates`. */
  duplicates: number;
  /** Raw (undecoded) body bytes, both routes. */
  bytesReceived: number;
  /** Ingestion events refused by validation. */
  invalidEvents: number;
  /** Valid ingestion events refused by v4's rules (event type, Bearer scope, score rules). */
  refusedEvents: number;
  /** Spans in OTLP batches that passed validation (a resent span counts each time). */
  spansReceived: number;
  /** Observations in the store: one per span id. */
  observationsStored: number;
  /** Span arrivals beyond the first, per id (read off the store: Σ (arrivals − 1)). */
  spanDuplicates: number;
  /** Resent spans whose JSON differed from the stored one. */
  spanConflicts: number;
  /** OTLP batches refused whole with 400 by validation (not by an injected fault). */
  invalidSpanBatches: number;
  /** Spans refused by the partial-success fault. */
  rejectedSpans: number;
  /** Distinct trace ids among stored observations. */
  tracesStored: number;
  scoresStored: number;
}

export type AuthKind = 'bearer' | 'basic' | 'query' | 'none';

export interface RequestLogEntry {
  /** ms epoch when the request arrived */
  at: number;
  /** 0 when no answer was delivered */
  status: number;
  /** which route */
  path: 'ingestion' | 'otlp';
  /** events (or spans) in the batch, 0 if unparsed */
  count: number;
  ids: (string | null)[];
  contentType: string | null;
  contentEncoding: string | null;
  auth: AuthKind;
  bytes: number;
  url: string;
}

/**
 * A fault for the next requests of the routes it targets. `path`: 'otlp', 'ingestion' or 'any' (default); a
 * request of another route neither sees it nor uses up `times`.
 * - `fail-ids`: on /ingestion, those event ids answered with their status; on OTLP, a batch holding a listed
 *   span id is refused whole with that id's status (use 400 for Langfuse's whole-batch answer).
 * - `partial-success` (OTLP only): 200 `{ partialSuccess: { rejectedSpans, errorMessage } }`, the first
 *   `rejectedSpans` spans of the batch not stored, the others stored.
 * - `reject-span` (OTLP only): a batch holding a span whose name or span id equals `match` is refused whole
 *   with 400 (to test bisection on the client).
 */
export type Fault = (
  | { mode: 'none'; path?: FaultPath }
  | { mode: 'down'; path?: FaultPath }
  | { mode: 'status'; status: number; retryAfter?: string | number; delayMs?: number; path?: FaultPath }
  | { mode: 'slow'; delayMs: number; path?: FaultPath }
  | { mode: 'fail-ids'; ids: Record<string, number>; path?: FaultPath }
  | { mode: 'partial-success'; rejectedSpans: number; errorMessage?: string; path?: 'otlp' }
  | { mode: 'reject-span'; match: string; path?: 'otlp' }
) & { times?: number };

export type FaultPath = 'otlp' | 'ingestion' | 'any';

/** What a span's attributes say about its trace (read per span). */
export interface TraceAttributes {
  name: string | null;
  userId: string | null;
  sessionId: string | null;
  tags: string[];
  public: boolean | null;
  metadata: Record<string, unknown>;
}

/** One stored span, converted as Langfuse converts OTLP attributes. Times in ms epoch. */
export interface Observation {
  /** span id */
  id: string;
  traceId: string;
  parentObservationId: string | null;
  type: 'span' | 'generation' | 'event' | 'agent' | 'tool' | 'chain' | 'retriever' | 'evaluator' | 'embedding' | 'guardrail';
  name: string;
  kind: number | string | null;
  startTime: number;
  endTime: number;
  /** `langfuse.observation.input` as sent (a JSON string, usually) */
  input: string | null;
  output: string | null;
  /** `langfuse.observation.metadata` merged with `.metadata.<k>`; foreign scopes add `attributes` */
  metadata: Record<string, unknown>;
  level: 'DEBUG' | 'DEFAULT' | 'WARNING' | 'ERROR';
  statusMessage: string | null;
  model: string | null;
  modelParameters: unknown;
  /** with `total` added when missing */
  usageDetails: Record<string, number> | null;
  costDetails: Record<string, number> | null;
  completionStartTime: number | null;
  promptName: string | null;
  promptVersion: number | null;
  trace: TraceAttributes;
  /** normalized: lower case, no `langfuse-` prefix, else 'default' */
  environment: string;
  release: string | null;
  version: string | null;
  serviceName: string | null;
  serviceVersion: string | null;
  scope: { name: string | null; version: string | null };
}

export interface StoredObservation extends Observation {
  /** how often this span id arrived (1 = no duplicate) */
  arrivals: number;
  /** later arrivals whose JSON differed from the stored (first) one */
  conflicts: number;
  /** the span as first received */
  raw: unknown;
  seq: number;
  receivedAt: number;
}

/** A trace read off its observations (later spans' trace attributes win; tags united; metadata merged). */
export interface Trace {
  id: string;
  /** `langfuse.trace.name`, else the root observation's name */
  name: string | null;
  userId: string | null;
  sessionId: string | null;
  tags: string[];
  public: boolean;
  metadata: Record<string, unknown>;
  environment: string;
  release: string | null;
  version: string | null;
  serviceName: string | null;
  startTime: number;
  endTime: number;
  /** the root observation's input/output */
  input: string | null;
  output: string | null;
  rootObservationId: string | null;
  observationCount: number;
}

export interface StoredScore {
  /** the body's id, else the event's id */
  id: string;
  name: string;
  value: number | string;
  dataType: string | null;
  traceId: string | null;
  observationId: string | null;
  sessionId: string | null;
  datasetRunId: string | null;
  comment: string | null;
  metadata: unknown;
  eventId: string;
  timestamp: string;
  seq: number;
  receivedAt: number;
}

export interface TraceWithChildren extends Trace {
  observations: StoredObservation[];
  scores: StoredScore[];
}

export interface Collector {
  /** e.g. 'http://127.0.0.1:41234' */
  readonly url: string;
  readonly port: number;
  /** url + '/api/public/ingestion' */
  readonly endpoint: string;
  /** url + '/api/public/otel/v1/traces' */
  readonly otlpEndpoint: string;
  readonly langfuse: 'v3' | 'v4';
  /** Stops the server, destroys open sockets, closes the database; idempotent. */
  close(): Promise<void>;
  /** Stored events in arrival order (`after`: only seq > after). */
  events(query?: { after?: number; limit?: number }): StoredEvent[];
  /** Stored observations in arrival order (GET /control/observations?traceId&type&name&after&limit). */
  observations(query?: { traceId?: string; type?: string; name?: string; after?: number; limit?: number }): StoredObservation[];
  /** Traces, newest first (GET /control/traces?limit&observations=1). */
  traces(query?: { limit?: number; withObservations?: false }): Trace[];
  traces(query: { limit?: number; withObservations: true }): TraceWithChildren[];
  /** Stored scores in arrival order (GET /control/scores?traceId). */
  scores(query?: { traceId?: string }): StoredScore[];
  /** span id → how often it arrived (GET /control/span-arrivals → { arrivals }). */
  spanArrivals(): Record<string, number>;
  stats(): CollectorStats;
  /** Every accepted arrival of each ingestion event id, duplicates included (the store keeps one row per id). */
  arrivals(): Map<string, { at: number; referer: string | null }[]>;
  /** The last 10 000 requests of both ingestion routes, oldest first. */
  requests(): RequestLogEntry[];
  /** The fault in force (`times` = remaining requests, if limited). */
  fault(): Fault;
  /** Throws a TypeError on an invalid fault. */
  setFault(fault: Fault): void;
  /** Clears events, observations, scores, counters, the request log and the fault. */
  reset(): void;
  /** Resolves with the predicate's value once truthy (polled every 25 ms); rejects on timeout (default 10 s). */
  waitFor<T>(predicate: (collector: Collector) => T | Promise<T>, timeoutMs?: number): Promise<Exclude<T, null | undefined | false | 0 | ''>>;
}

export declare function startCollector(opts?: CollectorOptions): Promise<Collector>;

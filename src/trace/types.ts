import type { CoreOutbox, OutboxStats, TrackOptions } from '../core/types';
import type { ScoreBody } from './score';
import type { OtlpSpan } from '../wire/otlp';

/** Langfuse's observation types, sent as `langfuse.observation.type` (exact lower case). */
export type ObservationType =
  | 'span'
  | 'generation'
  | 'event'
  | 'agent'
  | 'tool'
  | 'chain'
  | 'retriever'
  | 'evaluator'
  | 'embedding'
  | 'guardrail';

export type ObservationLevel = 'DEBUG' | 'DEFAULT' | 'WARNING' | 'ERROR';

/** A point in time: a Date, epoch milliseconds or an ISO 8601 string. */
export type TimeInput = Date | number | string;

/** Attributes of every observation type. Values are read (and masked) at end(), not when given. */
export interface ObservationAttributes {
  input?: unknown;
  output?: unknown;
  /** An object; its keys merge across update() calls. At most 200 keys are kept. */
  metadata?: unknown;
  level?: ObservationLevel;
  statusMessage?: string;
  /** Sent as `langfuse.version` (Langfuse has one version attribute per span). */
  version?: string;
  /** Overrides the client's `environment` for this span. */
  environment?: string;
  // Generation-like types (generation, embedding) only; ignored with a warning elsewhere:
  model?: string;
  modelParameters?: Record<string, unknown>;
  /** Token counts by kind (`input`, `output`, …): non-negative integers; other entries are dropped. */
  usageDetails?: Record<string, number>;
  /** Costs by kind, in the model's currency: finite numbers. */
  costDetails?: Record<string, number>;
  completionStartTime?: TimeInput;
  prompt?: { name: string; version: number };
}

/** Trace-wide attributes, copied onto every span of the trace that ends after they were set. */
export interface TraceAttributes {
  name?: string;
  userId?: string;
  sessionId?: string;
  /** Replaces earlier tags (Langfuse unions tags across a trace's spans anyway). */
  tags?: string[];
  /** Merges with earlier trace metadata, key by key. At most 200 keys are kept. */
  metadata?: unknown;
  public?: boolean;
  /** Trace I/O: Langfuse shows the root observation's input/output; these fill it when the root has none. */
  input?: unknown;
  output?: unknown;
  version?: string;
  release?: string;
}

export interface StartOptions {
  /** @default 'span' */
  asType?: ObservationType;
  /** Trace-wide attributes (meant for the root; children inherit). */
  trace?: TraceAttributes;
  /** @default now */
  startTime?: TimeInput;
  /** Continue a trace from elsewhere: 32 hex digits (top-level observations only). */
  traceId?: string;
  /** The remote parent span: 16 hex digits (with `traceId`). */
  parentSpanId?: string;
}

/** One observation in flight. A plain object: methods don't use `this`, never throw, and do nothing after end(). */
export interface Observation {
  /** Span id, 16 lowercase hex digits (Langfuse's observation id). */
  readonly id: string;
  /** 32 lowercase hex digits. */
  readonly traceId: string;
  readonly type: ObservationType;
  /** Merges attributes; undefined values leave earlier ones alone. */
  update(attributes: ObservationAttributes): void;
  /** Trace-wide attributes for this trace's spans that end afterwards (this one included). */
  updateTrace(attributes: TraceAttributes): void;
  /** A child observation in the same trace. */
  startObservation(name: string, attributes?: ObservationAttributes, options?: StartOptions): Observation;
  /** Ends it (default now) and queues its one span. A second call is ignored. */
  end(endTime?: TimeInput): void;
}

/** One finished span for the core to queue. */
export interface SpanRecord {
  /** The span id. */
  id: string;
  type: ObservationType;
  /** End time, epoch ms. */
  ts: number;
  body: OtlpSpan;
  wire: 'otlp';
}

/** What a replaced or dropped value reports: the observation, its type and what happened. */
export interface WarnInfo {
  id: string;
  type: string;
  detail: string;
}

/** What tracing needs from the client: a narrow door. */
export interface TracingDeps {
  /** Queues one finished span (write-ahead, OTLP wire). Called once per observation; must not throw. */
  emit(record: SpanRecord): void;
  /** Epoch ms. */
  now(): number;
  /** Fills a buffer with random bytes (`crypto.getRandomValues`). */
  fill(buffer: Uint8Array): void;
  /** Applied at end() to input, output and metadata (of the trace and of the observation). */
  mask?: (params: { data: unknown }) => unknown;
  environment?: string;
  release?: string;
  version?: string;
  /** UTF-8 bytes one attribute string may have; a longer one is replaced by a marker. @default 65536 */
  maxAttributeBytes?: number;
  /**
   * UTF-8 bytes one span's JSON may have (pass the client's `maxEventBytes`): past it the largest values are replaced
   * by markers, so the span is sent rather than dropped 'too-large'. @default 262144
   */
  maxSpanBytes?: number;
  /** Observations open at once; past it the oldest is ended early (WARNING). @default 10000 */
  maxOpenObservations?: number;
  /** Debug log (the client prints it only with `debug`). */
  log(message: string): void;
  /** A value was replaced or dropped. */
  warn(info: WarnInfo): void;
}

/** What createTracing() returns. */
export interface Tracing {
  startObservation(name: string, attributes?: ObservationAttributes, options?: StartOptions): Observation;
  /** Ends every open observation now with level WARNING and this statusMessage; returns how many. */
  endOpen(statusMessage: string): number;
  /** Observations open right now. */
  openCount(): number;
}

/** What `score()` takes: Langfuse's score fields (`id` optional). */
export type ScoreInput = Omit<ScoreBody, 'id' | 'value'> & { id?: string; value: number | string | boolean };

/** The public object returned by createOutbox(). Methods don't use `this`. */
export interface Outbox extends CoreOutbox {
  /**
   * Queue an event. Never throws and never awaits; returns the event id ('' if the event was dropped at once).
   * The body is serialized at the end of the current task.
   */
  track(type: string, body?: unknown, options?: TrackOptions): string;
  /**
   * Starts an observation (Langfuse v4's model: span, generation, event, agent, tool, chain, retriever, evaluator,
   * embedding, guardrail). Its merged attributes become one immutable OTLP span at `end()`. Never throws.
   */
  startObservation(name: string, attributes?: ObservationAttributes, options?: StartOptions): Observation;
  /**
   * Queues a score (`score-create` on the ingestion wire) after checking Langfuse's rules; returns its id, or ''
   * when it was dropped 'invalid' (the detail names the field). Never throws.
   */
  score(score: ScoreInput): string;
  /** Send everything queued now; resolves when each batch is acked, handed off or re-queued. Never rejects. */
  flush(): Promise<void>;
  /** Flush, await every request, stop timers and listeners; later track() calls are dropped ('shutdown'). */
  shutdown(): Promise<void>;
  stats(): OutboxStats;
}

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
export interface SpanAttributes {
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
}

/** Attributes of generation-like types (generation, embedding): a model, its parameters, usage and cost. */
export interface GenerationAttributes extends SpanAttributes {
  model?: string;
  modelParameters?: Record<string, unknown>;
  /** Token counts by kind (`input`, `output`, …): non-negative integers; other entries are dropped. */
  usageDetails?: Record<string, number>;
  /** Costs by kind, in the model's currency: finite numbers. */
  costDetails?: Record<string, number>;
  completionStartTime?: TimeInput;
  prompt?: { name: string; version: number; isFallback?: boolean };
}

/**
 * Every attribute any type takes (what the client merges internally). A model on a type that is not
 * generation-like is refused by the types (see AttributesOf) and, from untyped code, ignored with a warning.
 */
export type ObservationAttributes = GenerationAttributes;

/** Which attributes each observation type takes, as in `@langfuse/tracing` (model and usage only on generation-likes). */
export interface AttributesByType {
  span: SpanAttributes;
  generation: GenerationAttributes;
  event: SpanAttributes;
  agent: SpanAttributes;
  tool: SpanAttributes;
  chain: SpanAttributes;
  retriever: SpanAttributes;
  evaluator: SpanAttributes;
  embedding: GenerationAttributes;
  guardrail: SpanAttributes;
}
export type AttributesOf<T extends ObservationType> = AttributesByType[T];

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

/** A remote (or any) parent span, as OpenTelemetry's SpanContext carries it: 32 and 16 lowercase hex digits. */
export interface ParentSpanContext {
  traceId: string;
  spanId: string;
  /** Accepted for OpenTelemetry SpanContext compatibility; not used. */
  traceFlags?: number;
}

export interface StartOptions<T extends ObservationType = ObservationType> {
  /** @default 'span' */
  asType?: T;
  /** Trace-wide attributes (meant for the root; children inherit). */
  trace?: TraceAttributes;
  /** @default now */
  startTime?: TimeInput;
  /** The parent span, from elsewhere (Langfuse's option): `{ traceId, spanId }`. Wins over the active observation. */
  parentSpanContext?: ParentSpanContext;
  /** Continue a trace from elsewhere: 32 hex digits (top-level observations only). */
  traceId?: string;
  /** The remote parent span: 16 hex digits (with `traceId`). */
  parentSpanId?: string;
}

/** Options of startActiveObservation(): startObservation's, and whether the observation ends when `fn` is done. */
export interface ActiveStartOptions<T extends ObservationType = ObservationType> extends StartOptions<T> {
  /** End the observation when `fn` returns or its promise settles. @default true */
  endOnExit?: boolean;
}

/** observe()'s options, as in `@langfuse/tracing`. */
export interface ObserveOptions<T extends ObservationType = ObservationType> {
  /** @default the function's name, else 'anonymous-function' */
  name?: string;
  /** @default 'span' */
  asType?: T;
  /** The arguments become the input: none → no input, one → that argument, more → the array. @default true */
  captureInput?: boolean;
  /** The return value (or the promise's value) becomes the output; a throw records `{ error: String(error) }`. @default true */
  captureOutput?: boolean;
  parentSpanContext?: ParentSpanContext;
  /** @default true */
  endOnExit?: boolean;
}

/**
 * Trace attributes for every observation started inside a propagateAttributes() callback (Langfuse's limits:
 * each string at most 200 characters, else dropped with a warning; metadata values must be strings).
 */
export interface PropagatedAttributes {
  userId?: string;
  sessionId?: string;
  /** String values only; merges with outer propagated metadata key by key. */
  metadata?: Record<string, string>;
  version?: string;
  /** Unions with outer propagated tags. */
  tags?: string[];
  traceName?: string;
  /** `[a-z0-9_-]`, at most 40 characters, not starting with "langfuse" (else dropped). */
  environment?: string;
}

/** One observation in flight. A plain object: methods don't use `this`, never throw, and do nothing after end(). */
export interface Observation<T extends ObservationType = ObservationType> {
  /** Span id, 16 lowercase hex digits (Langfuse's observation id). */
  readonly id: string;
  /** 32 lowercase hex digits. */
  readonly traceId: string;
  readonly type: T;
  /** Merges attributes; undefined values leave earlier ones alone. Returns this observation (chainable). */
  update(attributes: AttributesOf<T>): Observation<T>;
  /** Trace-wide attributes for this trace's spans that end afterwards (this one included). Returns this observation. */
  updateTrace(attributes: TraceAttributes): Observation<T>;
  /** A child observation in the same trace. */
  startObservation<C extends ObservationType = 'span'>(name: string, attributes?: AttributesOf<C>, options?: StartOptions<C>): Observation<C>;
  /** Ends it (default now) and queues its one span. A second call is ignored. */
  end(endTime?: TimeInput): void;
}

/**
 * Langfuse's tracing calls (`@langfuse/tracing`'s names and semantics), on every client. "Active" is the
 * observation of the innermost startActiveObservation()/observe() callback: carried across `await` where the
 * runtime has AsyncLocalStorage (Node; Workers with the `nodejs_als` or `nodejs_compat` flag), and only during the
 * callback's synchronous part elsewhere (pages; Workers without the flag). See the README's "Active context".
 */
export interface TracingCalls {
  /**
   * Starts an observation (span, generation, event, agent, tool, chain, retriever, evaluator, embedding,
   * guardrail); its parent is `options.parentSpanContext`, else the active observation, else none (a new trace).
   * Its merged attributes become one immutable OTLP span at `end()`. Never throws.
   */
  startObservation<T extends ObservationType = 'span'>(name: string, attributes?: AttributesOf<T>, options?: StartOptions<T>): Observation<T>;
  /**
   * Starts an observation, makes it the active one while `fn` runs and ends it when `fn` returns or its promise
   * settles (unless `endOnExit: false`). A throw or rejection sets the span's status to ERROR with the error's
   * message (Langfuse: level ERROR, that statusMessage) and is rethrown. Returns what `fn` returns.
   */
  startActiveObservation<R, T extends ObservationType = 'span'>(name: string, fn: (observation: Observation<T>) => R, options?: ActiveStartOptions<T>): R;
  /** Wraps `fn` (sync or async) so each call is an observation with the arguments as input and the result as output. */
  observe<F extends (...args: any[]) => any, T extends ObservationType = 'span'>(fn: F, options?: ObserveOptions<T>): F;
  /** Updates the active observation (`asType` also changes its type); without one, logs and does nothing. */
  updateActiveObservation<T extends ObservationType = 'span'>(attributes: AttributesOf<T>, options?: { asType?: T }): void;
  /**
   * Runs `fn` with these trace attributes added to every observation started inside it (and to the active one);
   * nested calls merge (tags union, metadata by key). Returns what `fn` returns.
   */
  propagateAttributes<R>(attributes: PropagatedAttributes, fn: () => R): R;
  /** The active observation's trace id, or undefined. */
  getActiveTraceId(): string | undefined;
  /** The active observation's span id, or undefined. */
  getActiveSpanId(): string | undefined;
  /**
   * A trace id: with a seed, the first 32 hex digits of SHA-256(seed) — the same id `@langfuse/tracing` makes for
   * that seed; without, a random one.
   */
  createTraceId(seed?: string): Promise<string>;
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

/** What `score()` takes: Langfuse's score fields (`id` optional). */
export type ScoreInput = Omit<ScoreBody, 'id' | 'value'> & { id?: string; value: number | string | boolean };

/** The public object returned by createOutbox(). Methods don't use `this`. */
export interface Outbox extends CoreOutbox, TracingCalls {
  /**
   * Queue an event. Never throws and never awaits; returns the event id ('' if the event was dropped at once).
   * The body is serialized at the end of the current task.
   */
  track(type: string, body?: unknown, options?: TrackOptions): string;
  /**
   * Queues a score (`score-create` on the ingestion wire) after checking Langfuse's rules; returns its id, or ''
   * when it was dropped 'invalid' (the detail names the field). Never throws.
   */
  score(score: ScoreInput): string;
  /** Send everything queued now; resolves when each batch is acked, handed off or re-queued. Never rejects. */
  flush(): Promise<void>;
  /** Flush, await every request, stop timers and listeners; later track() calls are dropped ('shutdown'). */
  shutdown(): Promise<void>;
  /** The counters, and `sampledOut`: spans and scores of traces `sampleRate` left out (by design, not a loss). */
  stats(): OutboxStats & { sampledOut: number };
}

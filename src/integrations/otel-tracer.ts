// An OpenTelemetry-Tracer-shaped object over Outbox observations, for libraries that take a `tracer` (the AI SDK's
// telemetry: AI SDK 7's @ai-sdk/otel integrations, AI SDK 6's `experimental_telemetry: { tracer }`). Each span becomes
// one observation: its type, model, usage, input and output read off the GenAI / AI SDK attributes as Langfuse reads
// them, the other attributes kept as metadata. No OpenTelemetry package is imported: a context is read through the
// API's well-known key, and the active context through the OpenTelemetry API's global, when an app registered one.
import type { Observation, ObservationAttributes, ObservationType } from '../trace/types';
import { flatMetadata, safely, tokenCounts, type ObservationParent } from './shared';

type AttributeValue = string | number | boolean | Array<string | number | boolean | null | undefined>;
type Attributes = Record<string, AttributeValue | undefined>;
type HrTime = [number, number];
type TimeInput = HrTime | number | Date;
interface ContextLike {
  getValue(key: symbol): unknown;
  setValue(key: symbol, value: unknown): ContextLike;
}
interface SpanOptions {
  attributes?: Attributes;
  startTime?: TimeInput;
  root?: boolean;
  kind?: number;
}
interface SpanContextLike {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

/** The OpenTelemetry API's context key of the current span (`createContextKey` is `Symbol.for`). */
const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');

interface OtelApiGlobal {
  context?: { active(): ContextLike; with<F extends (...a: never[]) => unknown>(ctx: ContextLike, fn: F, thisArg?: unknown, ...args: unknown[]): ReturnType<F> };
}
/** The OpenTelemetry API's registered globals (version 1), if an app registered a context manager. */
function otelApi(): OtelApiGlobal | undefined {
  return (globalThis as Record<symbol, OtelApiGlobal | undefined>)[Symbol.for('opentelemetry.js.api.1')];
}

function toMs(t: TimeInput | undefined): number | undefined {
  if (t === undefined) return undefined;
  if (Array.isArray(t)) return t[0] * 1000 + t[1] / 1e6;
  if (t instanceof Date) return t.getTime();
  // OpenTelemetry takes a number as epoch ms, or as performance.now() ms when it is small.
  return typeof t === 'number' ? (t < 1e12 ? performance.timeOrigin + t : t) : undefined;
}

const meaningful = (v: unknown) => v != null && v !== '' && (!Array.isArray(v) || v.length > 0);
const GEN_AI_OPERATIONS: Record<string, ObservationType> = {
  chat: 'generation', completion: 'generation', text_completion: 'generation', generate_content: 'generation', generate: 'generation',
  embeddings: 'embedding', invoke_agent: 'agent', create_agent: 'agent', execute_tool: 'tool',
};
const AI_SDK_GENERATION = ['ai.generateText.doGenerate', 'ai.streamText.doStream', 'ai.generateObject.doGenerate', 'ai.streamObject.doStream'];
const AI_SDK_EMBEDDING = ['ai.embedMany.doEmbed', 'ai.embed.doEmbed'];

/**
 * A span's observation type as Langfuse's server maps it (its ObservationTypeMapperRegistry): the GenAI operation
 * name, the AI SDK's operation id, GenAI tool attributes, else a model makes it a generation.
 */
export function observationTypeOf(a: Attributes): ObservationType {
  const op = a['gen_ai.operation.name'];
  if (typeof op === 'string' && Object.hasOwn(GEN_AI_OPERATIONS, op)) return GEN_AI_OPERATIONS[op]!;
  const opName = a['operation.name'];
  const opId = a['ai.operationId'];
  const isOp = (ids: string[]) => (typeof opName === 'string' && ids.some((p) => opName.startsWith(p))) || (typeof opId === 'string' && ids.includes(opId));
  const hasModel = meaningful(a['ai.model.id']) || meaningful(a['gen_ai.request.model']) || meaningful(a['gen_ai.response.model']);
  if (hasModel && isOp(AI_SDK_GENERATION)) return 'generation';
  if (hasModel && isOp(AI_SDK_EMBEDDING)) return 'embedding';
  if (isOp(['ai.toolCall'])) return 'tool';
  if (meaningful(a['gen_ai.tool.name']) || meaningful(a['gen_ai.tool.call.id'])) return 'tool';
  if (meaningful(a['gen_ai.request.model']) || meaningful(a['gen_ai.response.model']) || meaningful(a['llm.model_name']) || meaningful(a.model)) return 'generation';
  return 'span';
}

function json(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/** Keys read into named fields (the rest stay as `metadata.attributes`, as Langfuse keeps a foreign span's). */
const CONSUMED = [
  'gen_ai.input.messages', 'gen_ai.output.messages', 'gen_ai.tool.call.arguments', 'gen_ai.tool.call.result', 'gen_ai.request.model',
  'gen_ai.response.model', 'gen_ai.usage.input_tokens', 'gen_ai.usage.output_tokens', 'ai.prompt', 'ai.prompt.messages',
  'ai.response.text', 'ai.response.object', 'ai.toolCall.args', 'ai.toolCall.result', 'langfuse.observation.prompt.name',
  'langfuse.observation.prompt.version',
];
const OBS_METADATA = 'langfuse.observation.metadata.';

/** What an ended span records on its observation. */
export function observationAttributesOf(a: Attributes, type: ObservationType, startMs: number, status: { code: number; message?: string } | undefined): ObservationAttributes {
  const metadata: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  const params: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(a)) {
    if (value === undefined || CONSUMED.includes(key)) continue;
    if (key.startsWith(OBS_METADATA)) metadata[key.slice(OBS_METADATA.length)] = value;
    else if (key.startsWith('gen_ai.request.')) params[key.slice('gen_ai.request.'.length)] = value;
    else rest[key] = value;
  }
  if (Object.keys(rest).length > 0) metadata.attributes = rest;
  const error = status?.code === 2;
  const common: ObservationAttributes = {
    input: json(a['gen_ai.input.messages'] ?? a['gen_ai.tool.call.arguments'] ?? a['ai.prompt.messages'] ?? a['ai.prompt'] ?? a['ai.toolCall.args']),
    output: json(a['gen_ai.output.messages'] ?? a['gen_ai.tool.call.result'] ?? a['ai.response.text'] ?? a['ai.response.object'] ?? a['ai.toolCall.result']),
    metadata: { ...flatMetadata(metadata) },
    ...(error ? { level: 'ERROR' as const } : {}),
    ...(error && status.message ? { statusMessage: status.message } : {}),
  };
  if (type !== 'generation' && type !== 'embedding') return common;
  const model = a['gen_ai.response.model'] ?? a['gen_ai.request.model'];
  const ttfcSeconds = a['gen_ai.client.operation.time_to_first_chunk'];
  const ttfcMs = a['ai.response.msToFirstChunk'];
  const completionStartTime = typeof ttfcSeconds === 'number' ? startMs + ttfcSeconds * 1000 : typeof ttfcMs === 'number' ? startMs + ttfcMs : undefined;
  const promptName = a['langfuse.observation.prompt.name'];
  const promptVersion = a['langfuse.observation.prompt.version'];
  return {
    ...common,
    ...(typeof model === 'string' && model !== '' ? { model } : {}),
    usageDetails: tokenCounts({ input: a['gen_ai.usage.input_tokens'], output: a['gen_ai.usage.output_tokens'] }),
    ...(Object.keys(params).length > 0 ? { modelParameters: params } : {}),
    ...(completionStartTime !== undefined ? { completionStartTime } : {}),
    ...(typeof promptName === 'string' && typeof promptVersion === 'number' ? { prompt: { name: promptName, version: promptVersion } } : {}),
  };
}

/** One OpenTelemetry span recorded as one Outbox observation at its end. */
class OutboxSpan {
  readonly observation: Observation;
  readonly type: ObservationType;
  readonly #attributes: Attributes;
  readonly #startMs: number;
  #status: { code: number; message?: string } | undefined;
  #ended = false;

  constructor(observation: Observation, type: ObservationType, attributes: Attributes, startMs: number) {
    this.observation = observation;
    this.type = type;
    this.#attributes = attributes;
    this.#startMs = startMs;
  }
  spanContext(): SpanContextLike {
    return { traceId: this.observation.traceId, spanId: this.observation.id, traceFlags: 1 };
  }
  setAttribute(key: string, value: AttributeValue | undefined): this {
    if (!this.#ended) this.#attributes[key] = value;
    return this;
  }
  setAttributes(attributes: Attributes): this {
    if (!this.#ended) for (const key in attributes) this.#attributes[key] = attributes[key];
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  setStatus(status: { code: number; message?: string }): this {
    if (!this.#ended) this.#status = status;
    return this;
  }
  /** An observation's name is fixed at its start: a later name is kept as metadata `otel.span.name`. */
  updateName(name: string): this {
    if (!this.#ended) this.#attributes['otel.span.name'] = name;
    return this;
  }
  isRecording(): boolean {
    return !this.#ended;
  }
  recordException(exception: unknown): void {
    if (this.#ended) return;
    const message = exception instanceof Error ? exception.message : typeof exception === 'string' ? exception : undefined;
    if (message && this.#status === undefined) this.#attributes['exception.message'] = message;
  }
  end(endTime?: TimeInput): void {
    if (this.#ended) return;
    this.#ended = true;
    safely(() => this.observation.update(observationAttributesOf(this.#attributes, this.type, this.#startMs, this.#status)));
    safely(() => this.observation.end(toMs(endTime)));
  }
}

/** A Tracer (`startSpan`, `startActiveSpan`) whose spans are Outbox observations under `parent`. */
export interface OutboxTracer {
  startSpan(name: string, options?: SpanOptions, context?: unknown): OutboxSpan;
  startActiveSpan<F extends (span: OutboxSpan) => unknown>(name: string, ...args: unknown[]): ReturnType<F>;
}

/**
 * An OpenTelemetry Tracer over Outbox observations. A span whose parent (in the context given, else the active one) is
 * one of these becomes that observation's child; a foreign parent span is continued by its trace and span ids.
 */
export function createOutboxTracer(parent: ObservationParent): OutboxTracer {
  const startSpan = (name: string, options: SpanOptions = {}, ctx?: unknown): OutboxSpan => {
    const attributes: Attributes = { ...options.attributes };
    const type = observationTypeOf(attributes);
    const startMs = toMs(options.startTime) ?? Date.now();
    const context = (ctx ?? otelApi()?.context?.active()) as ContextLike | undefined;
    let parentSpan: unknown;
    if (!options.root) safely(() => (parentSpan = context?.getValue?.(SPAN_KEY)));
    let observation: Observation;
    if (parentSpan instanceof OutboxSpan) {
      observation = parentSpan.observation.startObservation(name, {}, { asType: type, startTime: startMs });
    } else {
      let remote: SpanContextLike | undefined;
      safely(() => (remote = (parentSpan as { spanContext?: () => SpanContextLike } | undefined)?.spanContext?.()));
      const valid = remote && /^[0-9a-f]{32}$/.test(remote.traceId) && /^[0-9a-f]{16}$/.test(remote.spanId) && !/^0+$/.test(remote.traceId);
      observation = parent.startObservation(name, {}, valid ? { asType: type, startTime: startMs, parentSpanContext: remote } : { asType: type, startTime: startMs });
    }
    return new OutboxSpan(observation, type, attributes, startMs);
  };
  return {
    startSpan,
    startActiveSpan(name: string, ...args: unknown[]) {
      const fn = args.pop() as (span: OutboxSpan) => unknown;
      const [options, ctx] = args as [SpanOptions | undefined, ContextLike | undefined];
      const span = startSpan(name, options, ctx);
      const api = otelApi()?.context;
      if (!api) return fn(span) as never;
      const base = ctx ?? api.active();
      return api.with(base.setValue(SPAN_KEY, span), fn, undefined, span) as never;
    },
  };
}

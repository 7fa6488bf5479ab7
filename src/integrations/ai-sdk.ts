/**
 * The Vercel AI SDK (`outbox/ai-sdk`): `registerTelemetry(new OutboxVercelAiSdkIntegration({ outbox }))` records every
 * AI SDK 7 call (generateText, streamText, tool executions, generateObject, embed, rerank) as Outbox observations — the
 * same observations `@langfuse/vercel-ai-sdk`'s `LangfuseVercelAiSdkIntegration` makes, in pages and Workers too,
 * without the OpenTelemetry SDK. AI SDK 6: pass `experimental_telemetry: { isEnabled: true, tracer:
 * createOutboxTracer(outbox) }` to each call.
 */
import { OpenTelemetry } from '@ai-sdk/otel';
import { createOutboxTracer } from './otel-tracer';
import type { ObservationParent } from './shared';

export { createOutboxTracer, type OutboxTracer } from './otel-tracer';
export type { ObservationParent } from './shared';

/** Span types whose observations link a Langfuse prompt (as @langfuse/vercel-ai-sdk links them). */
const PROMPT_SPAN_TYPES = new Set(['languageModel', 'embedding', 'reranking']);

export interface OutboxVercelAiSdkIntegrationOptions {
  /** The Outbox client, or an open observation to nest the calls under. */
  outbox: ObservationParent;
}

/**
 * Runtime context the call includes in telemetry (`telemetry.includeRuntimeContext`) becomes observation metadata,
 * key by key; `langfusePrompt: { name, version }` links a prompt version to model calls instead (not a fallback).
 */
function enrichSpan({ spanType, runtimeContext }: { spanType: string; runtimeContext?: Record<string, unknown> }): Record<string, string | number> {
  const attributes: Record<string, string | number> = {};
  if (!runtimeContext) return attributes;
  const { langfusePrompt, ...metadata } = runtimeContext;
  const p = langfusePrompt as { name?: unknown; version?: unknown; isFallback?: unknown } | undefined;
  if (PROMPT_SPAN_TYPES.has(spanType) && p && typeof p.name === 'string' && typeof p.version === 'number' && p.isFallback !== true) {
    attributes['langfuse.observation.prompt.name'] = p.name;
    attributes['langfuse.observation.prompt.version'] = p.version;
  }
  for (const [key, value] of Object.entries(metadata)) {
    let text: string | undefined;
    try {
      text = typeof value === 'string' ? value : value == null ? undefined : JSON.stringify(value);
    } catch {
      text = '<failed to serialize>';
    }
    if (text != null) attributes[`langfuse.observation.metadata.${key}`] = text;
  }
  return attributes;
}

/**
 * An AI SDK 7 telemetry integration recording through Outbox: the AI SDK's own OpenTelemetry integration
 * (`@ai-sdk/otel`, the one `@langfuse/vercel-ai-sdk` delegates to) with a tracer whose spans are Outbox observations.
 */
export class OutboxVercelAiSdkIntegration extends OpenTelemetry {
  constructor(options: OutboxVercelAiSdkIntegrationOptions) {
    const outbox = (options as Partial<OutboxVercelAiSdkIntegrationOptions> | undefined)?.outbox;
    if (!outbox || typeof outbox.startObservation !== 'function') {
      throw new TypeError('OutboxVercelAiSdkIntegration: options.outbox must be an Outbox client or an observation (it has no startObservation)');
    }
    super({ tracer: createOutboxTracer(outbox) as never, enrichSpan: enrichSpan as never });
  }
}

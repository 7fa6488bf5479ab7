import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** The instrumentation scope name of `@langfuse/tracing` (and of Langfuse's other SDKs). */
export const LANGFUSE_SCOPE = 'langfuse-sdk';

/**
 * Scope names of LLM instrumentations Langfuse exports by default (the same list as `@langfuse/otel` 5.11.1):
 * a span's scope matches when it equals one, or starts with it followed by a dot — except `ai` (the Vercel AI
 * SDK), which must match exactly.
 */
export const KNOWN_LLM_SCOPES: readonly string[] = [
  LANGFUSE_SCOPE,
  'agent_framework',
  'ai',
  'haystack',
  'langsmith',
  'litellm',
  'openinference',
  'opentelemetry.instrumentation.anthropic',
  'opentelemetry.instrumentation.aws_bedrock',
  'opentelemetry.instrumentation.bedrock',
  'opentelemetry.instrumentation.gemini',
  'opentelemetry.instrumentation.google_genai',
  'opentelemetry.instrumentation.google_generativeai',
  'opentelemetry.instrumentation.openai',
  'opentelemetry.instrumentation.openai_v2',
  'opentelemetry.instrumentation.vertex_ai',
  'opentelemetry.instrumentation.vertexai',
  'strands-agents',
  'vllm',
];
const EXACT_ONLY = new Set(['ai']);

/** True for spans of a known LLM instrumentation scope (see KNOWN_LLM_SCOPES). */
export function isKnownLLMInstrumentor(span: Pick<ReadableSpan, 'instrumentationScope'>): boolean {
  const scope = span.instrumentationScope.name;
  return KNOWN_LLM_SCOPES.some((prefix) => scope === prefix || (!EXACT_ONLY.has(prefix) && scope.startsWith(prefix + '.')));
}

/** True for spans with at least one `gen_ai.*` attribute (OpenTelemetry's GenAI semantic conventions). */
export function isGenAISpan(span: Pick<ReadableSpan, 'attributes'>): boolean {
  for (const key in span.attributes) if (key.startsWith('gen_ai.')) return true;
  return false;
}

/**
 * The default `shouldExportSpan`, Langfuse's: a span is exported when its scope is `langfuse-sdk`, when it has a
 * `gen_ai.*` attribute, or when its scope is a known LLM instrumentation. HTTP, database and framework spans of
 * other instrumentations are not.
 */
export function isDefaultExportSpan(span: Pick<ReadableSpan, 'attributes' | 'instrumentationScope'>): boolean {
  return span.instrumentationScope.name === LANGFUSE_SCOPE || isGenAISpan(span) || isKnownLLMInstrumentor(span);
}

/**
 * OpenTelemetry entry (`outbox/otel`): `new OutboxSpanProcessor(options)`, a SpanProcessor that is a drop-in for
 * `@langfuse/otel`'s `LangfuseSpanProcessor` and exports through Outbox's queue. Node and Workers; the
 * OpenTelemetry packages are peer dependencies, left as imports.
 */
export { OutboxSpanProcessor, SETTLE_MARGIN_MS, type OutboxSpanProcessorStats } from './otel/processor';
export type { OutboxSpanProcessorOptions, WaitUntilContext } from './otel/options';
export { DEFAULT_BASE_URL, DEFAULT_TIMEOUT_S } from './otel/options';
export { isDefaultExportSpan, isGenAISpan, isKnownLLMInstrumentor, KNOWN_LLM_SCOPES, LANGFUSE_SCOPE } from './otel/filter';
export { OutboxOptionsError } from './core/options';
export type { DropInfo, DropReason, OutboxStats } from './core/types';

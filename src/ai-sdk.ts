/**
 * Vercel AI SDK entry (`outbox/ai-sdk`): `registerTelemetry(new OutboxVercelAiSdkIntegration({ outbox }))` for AI
 * SDK 7, and `createOutboxTracer(outbox)` for AI SDK 6's `experimental_telemetry: { tracer }`. Needs `@ai-sdk/otel`
 * (an optional peer dependency, the package `@langfuse/vercel-ai-sdk` builds on); the OpenTelemetry SDK is not used.
 */
export {
  OutboxVercelAiSdkIntegration,
  createOutboxTracer,
  type OutboxVercelAiSdkIntegrationOptions,
  type OutboxTracer,
  type ObservationParent,
} from './integrations/ai-sdk';

/**
 * Chrome's built-in AI entry (`outbox/chrome-ai`): `observeLanguageModel(session, { outbox })` records each
 * `prompt()` / `promptStreaming()` call of a Prompt API session as one generation. No dependencies.
 */
export { observeLanguageModel, type ObserveLanguageModelConfig, type ObservationParent, type ParentSpanContext } from './integrations/chrome-ai';

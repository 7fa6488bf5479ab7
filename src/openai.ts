/**
 * OpenAI entry (`outbox/openai`): `observeOpenAI(client, { outbox })` records each `chat.completions.create`,
 * `responses.create` and `completions.create` call of an OpenAI client (the `openai` package, or one of the same
 * shape such as WebLLM's engine) as one Outbox generation, by `@langfuse/openai`'s rules. No dependencies.
 */
export { observeOpenAI, type ObserveOpenAIConfig } from './integrations/openai';
export type { ObservationParent, ParentSpanContext } from './integrations/shared';

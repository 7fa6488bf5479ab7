// The options module callers import: the contract (options-types.ts), the zod schema (options-schema.ts), the
// environment (options-env.ts), endpoint resolution (endpoints.ts) and validation with its error text (resolve-options.ts).
export type { OutboxOptions, ResolvedOptions } from './options-types';
export { DEFAULTS } from './options-types';
export { OutboxOptionsError } from './errors';
export { optionsShape } from './options-schema';
export { optionsFromEnv, type EnvOptions } from './options-env';
export { INGESTION_PATH, OTLP_PATH, resolveEndpoints } from './endpoints';
export { resolveOptions, resolveOptionsFrom } from './resolve-options';

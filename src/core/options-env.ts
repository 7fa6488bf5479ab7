/** Where each option may come from in the environment, first match wins (explicit options win over all). */
const ENV_KEYS: Record<string, string[]> = {
  endpoint: ['OUTBOX_ENDPOINT'],
  baseUrl: ['OUTBOX_BASE_URL', 'LANGFUSE_BASE_URL', 'LANGFUSE_BASEURL'],
  environment: ['OUTBOX_ENVIRONMENT', 'LANGFUSE_TRACING_ENVIRONMENT'],
  release: ['OUTBOX_RELEASE', 'LANGFUSE_RELEASE'],
  publicKey: ['OUTBOX_PUBLIC_KEY', 'LANGFUSE_PUBLIC_KEY'],
  secretKey: ['OUTBOX_SECRET_KEY', 'LANGFUSE_SECRET_KEY'],
  flushAt: ['OUTBOX_FLUSH_AT', 'LANGFUSE_FLUSH_AT'],
  flushInterval: ['OUTBOX_FLUSH_INTERVAL', 'LANGFUSE_FLUSH_INTERVAL'],
  sampleRate: ['OUTBOX_SAMPLE_RATE', 'LANGFUSE_SAMPLE_RATE'],
  timeout: ['OUTBOX_TIMEOUT', 'LANGFUSE_TIMEOUT'],
};
const NUMERIC = ['flushAt', 'flushInterval', 'sampleRate', 'timeout'];

/** Option values read from an environment, and the variable each came from (named in error messages). */
export interface EnvOptions {
  values: Record<string, unknown>;
  sources: Record<string, string>;
}

/**
 * Reads options from an environment object (`process.env`, a Worker's `env`). Numbers are parsed; a value that
 * is not a number is kept as text so validation names it.
 */
export function optionsFromEnv(env: Record<string, unknown> | undefined): EnvOptions {
  const values: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  if (!env || typeof env !== 'object') return { values, sources };
  for (const [option, names] of Object.entries(ENV_KEYS)) {
    for (const name of names) {
      const raw = env[name];
      if (typeof raw !== 'string' || raw === '') continue;
      const num = Number(raw);
      values[option] = NUMERIC.includes(option) && raw.trim() !== '' && !Number.isNaN(num) ? num : raw;
      sources[option] = name;
      break;
    }
  }
  return { values, sources };
}

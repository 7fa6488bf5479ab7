import { createContextKey, propagation, type Attributes, type Context } from '@opentelemetry/api';

// Trace attributes set with `propagateAttributes()` of @langfuse/tracing travel in the OTel context under these
// keys (`createContextKey` is `Symbol.for`, so the same keys are reachable without importing @langfuse/core), or
// as W3C baggage entries `langfuse_*` when propagated across services.
const KEYS = {
  userId: createContextKey('langfuse_user_id'),
  sessionId: createContextKey('langfuse_session_id'),
  metadata: createContextKey('langfuse_metadata'),
  version: createContextKey('langfuse_version'),
  tags: createContextKey('langfuse_tags'),
  traceName: createContextKey('langfuse_trace_name'),
  environment: createContextKey('langfuse_environment'),
  promptName: createContextKey('langfuse_prompt_name'),
  promptVersion: createContextKey('langfuse_prompt_version'),
};

/** Context-carried experiment fields (strings), by span attribute. */
const EXPERIMENT: [symbol, string][] = [
  [createContextKey('langfuse_experiment_id'), 'langfuse.experiment.id'],
  [createContextKey('langfuse_experiment_name'), 'langfuse.experiment.name'],
  [createContextKey('langfuse_experiment_metadata'), 'langfuse.experiment.metadata'],
  [createContextKey('langfuse_experiment_dataset_id'), 'langfuse.experiment.dataset.id'],
  [createContextKey('langfuse_experiment_item_id'), 'langfuse.experiment.item.id'],
  [createContextKey('langfuse_experiment_item_metadata'), 'langfuse.experiment.item.metadata'],
  [createContextKey('langfuse_experiment_item_root_observation_id'), 'langfuse.experiment.item.root_observation_id'],
];
const ROOT_OBSERVATION = 'langfuse.experiment.item.root_observation_id';
/** Langfuse's environment of experiment runs. */
const EXPERIMENT_ENVIRONMENT = 'sdk-experiment';

/** Baggage key suffix (after `langfuse_`) → span attribute. */
const BAGGAGE: Record<string, string> = {
  user_id: 'user.id',
  session_id: 'session.id',
  version: 'langfuse.version',
  trace_name: 'langfuse.trace.name',
  environment: 'langfuse.environment',
  tags: 'langfuse.trace.tags',
  prompt_name: 'langfuse.observation.prompt.name',
  prompt_version: 'langfuse.observation.prompt.version',
  experiment_id: 'langfuse.experiment.id',
  experiment_name: 'langfuse.experiment.name',
  experiment_metadata: 'langfuse.experiment.metadata',
  experiment_dataset_id: 'langfuse.experiment.dataset.id',
  experiment_item_id: 'langfuse.experiment.item.id',
  experiment_item_metadata: 'langfuse.experiment.item.metadata',
  experiment_item_root_observation_id: ROOT_OBSERVATION,
};
/** The baggage entry by which a caller claims the trace's app root (Langfuse's cross-service convention). */
const TRACE_ID_BAGGAGE = 'langfuse_trace_id';

/** Langfuse's rule for a propagated environment: ≤ 40 of `[a-z0-9_-]`, not starting with "langfuse". */
function validEnvironment(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 40 && /^(?!langfuse)[a-z0-9_-]+$/.test(value);
}

const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v !== '';

/**
 * The span attributes Langfuse's processor copies from a parent context at span start: baggage `langfuse_*`
 * entries first, then values set in the context (which win): user, session, version, trace name, environment,
 * tags, prompt link, trace metadata (`langfuse.trace.metadata.<k>`, as strings) and experiment fields.
 */
export function propagatedAttributes(context: Context): Attributes {
  const out: Attributes = {};
  const baggage = propagation.getBaggage(context);
  if (baggage) {
    for (const [key, entry] of baggage.getAllEntries()) {
      if (key === TRACE_ID_BAGGAGE || !key.startsWith('langfuse_')) continue;
      const suffix = key.slice('langfuse_'.length);
      const attribute = suffix.startsWith('metadata_') ? 'langfuse.trace.metadata.' + suffix.slice('metadata_'.length) : BAGGAGE[suffix];
      if (attribute === undefined) continue;
      if (attribute === 'langfuse.environment') {
        if (validEnvironment(entry.value)) out[attribute] = entry.value;
      } else if (attribute === 'langfuse.observation.prompt.version' && /^\d+$/.test(entry.value)) {
        out[attribute] = Number(entry.value);
      } else {
        out[attribute] = attribute === 'langfuse.trace.tags' ? entry.value.split(',') : entry.value;
      }
    }
  }
  const get = (key: symbol) => context.getValue(key);
  const userId = get(KEYS.userId);
  if (nonEmptyString(userId)) out['user.id'] = userId;
  const sessionId = get(KEYS.sessionId);
  if (nonEmptyString(sessionId)) out['session.id'] = sessionId;
  const version = get(KEYS.version);
  if (nonEmptyString(version)) out['langfuse.version'] = version;
  const traceName = get(KEYS.traceName);
  if (nonEmptyString(traceName)) out['langfuse.trace.name'] = traceName;
  const environment = get(KEYS.environment);
  if (validEnvironment(environment)) out['langfuse.environment'] = environment;
  const tags = get(KEYS.tags);
  if (Array.isArray(tags) && tags.length > 0) out['langfuse.trace.tags'] = tags as string[];
  const promptName = get(KEYS.promptName);
  if (nonEmptyString(promptName)) out['langfuse.observation.prompt.name'] = promptName;
  const promptVersion = get(KEYS.promptVersion);
  if (typeof promptVersion === 'number') out['langfuse.observation.prompt.version'] = promptVersion;
  const metadata = get(KEYS.metadata);
  if (metadata && typeof metadata === 'object') {
    for (const [k, v] of Object.entries(metadata)) out['langfuse.trace.metadata.' + k] = String(v);
  }
  for (const [key, attribute] of EXPERIMENT) {
    const value = get(key);
    if (nonEmptyString(value)) out[attribute] = value;
  }
  if (out[ROOT_OBSERVATION]) out['langfuse.environment'] = EXPERIMENT_ENVIRONMENT;
  return out;
}

/** The trace id a caller claimed the app root of through baggage (lower case), if any. */
export function claimedTraceId(context: Context): string | undefined {
  const value = propagation.getBaggage(context)?.getEntry(TRACE_ID_BAGGAGE)?.value;
  return value ? value.toLowerCase() : undefined;
}

// Turning one OTLP span into a Langfuse-style observation, attribute by attribute (LANGFUSE.md, "Mapping").

/** Observation types Langfuse accepts in `langfuse.observation.type`, exact lower case. */
export const OBSERVATION_TYPES = ['span', 'generation', 'event', 'agent', 'tool', 'chain', 'retriever', 'evaluator', 'embedding', 'guardrail'];
const LEVELS = ['DEBUG', 'DEFAULT', 'WARNING', 'ERROR'];
const MODEL_KEYS = ['langfuse.observation.model.name', 'gen_ai.response.model', 'gen_ai.request.model'];
const OBS_METADATA_PREFIX = 'langfuse.observation.metadata.';
const TRACE_METADATA_PREFIX = 'langfuse.trace.metadata.';

/**
 * @typedef {{ name: string | null, userId: string | null, sessionId: string | null, tags: string[],
 *   public: boolean | null, metadata: Record<string, unknown> }} TraceAttributes
 * @typedef {{ id: string, traceId: string, parentObservationId: string | null, type: string, name: string,
 *   kind: number | string | null, startTime: number, endTime: number, input: string | null, output: string | null,
 *   metadata: Record<string, unknown>, level: string, statusMessage: string | null, model: string | null,
 *   modelParameters: unknown, usageDetails: Record<string, number> | null, costDetails: Record<string, number> | null,
 *   completionStartTime: number | null, promptName: string | null, promptVersion: number | null,
 *   trace: TraceAttributes, environment: string, release: string | null, version: string | null,
 *   serviceName: string | null, serviceVersion: string | null, scope: { name: string | null, version: string | null } }} Observation
 */

/**
 * Converts an OTLP AnyValue to a JS value: strings, numbers (intValue as a number), booleans, arrays and kvlists
 * recursively; any other shape becomes the JSON text of the whole value, as Langfuse stores it.
 * @param {any} value
 * @returns {unknown}
 */
export function fromAnyValue(value) {
  if (value == null || typeof value !== 'object') return value ?? null;
  if (typeof value.stringValue === 'string') return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (typeof value.boolValue === 'boolean') return value.boolValue;
  if (Array.isArray(value.arrayValue?.values)) return value.arrayValue.values.map(fromAnyValue);
  if (Array.isArray(value.kvlistValue?.values)) return toMap(value.kvlistValue.values);
  return JSON.stringify(value);
}

/**
 * An attribute list as a Map key → JS value (a later duplicate key wins).
 * @param {{ key: string, value?: unknown }[] | undefined} list
 * @returns {Map<string, unknown>}
 */
function attributeMap(list) {
  return new Map((list ?? []).map((kv) => [kv.key, fromAnyValue(kv.value)]));
}

/** @param {{ key: string, value?: unknown }[]} list */
function toMap(list) {
  /** @type {Record<string, unknown>} */
  const out = {};
  for (const kv of list) if (typeof kv?.key === 'string') out[kv.key] = fromAnyValue(kv.value);
  return out;
}

/** Unix nanoseconds (string or number) → ms, truncated. @param {string | number} nanos */
export function nanosToMs(nanos) {
  return Number(BigInt(typeof nanos === 'number' ? Math.trunc(nanos) : nanos) / 1_000_000n);
}

/** @param {unknown} v */
const str = (v) => (v === undefined || v === null ? null : typeof v === 'string' ? v : JSON.stringify(v));

/** A JSON object from an attribute that should hold one (a JSON string, or a kvlist already converted). @param {unknown} v */
function jsonObject(v) {
  let parsed = v;
  if (typeof v === 'string') {
    try {
      parsed = JSON.parse(v);
    } catch {
      return null;
    }
  }
  return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? /** @type {Record<string, unknown>} */ (parsed) : null;
}

/** A JSON value from a string attribute, or the value itself. @param {unknown} v */
function jsonValue(v) {
  if (typeof v !== 'string') return v ?? null;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/**
 * Usage (or cost) details: a JSON object of non-negative numbers (integers for usage); other entries are left
 * out. Usage gets `total` (the sum) when it has none.
 * @param {unknown} v
 * @param {{ integers: boolean, addTotal: boolean }} opts
 */
function details(v, { integers, addTotal }) {
  const obj = jsonObject(v);
  if (!obj) return null;
  /** @type {Record<string, number>} */
  const out = {};
  for (const [k, n] of Object.entries(obj)) {
    if (typeof n === 'number' && n >= 0 && (!integers || Number.isInteger(n))) out[k] = n;
  }
  if (addTotal && out.total === undefined && Object.keys(out).length > 0) out.total = Object.values(out).reduce((a, b) => a + b, 0);
  return Object.keys(out).length > 0 ? out : null;
}

/**
 * Normalizes an environment as Langfuse does: lower case, a `langfuse-` prefix removed; what is then not
 * 1–40 characters of `[a-z0-9-_]` becomes 'default'.
 * @param {unknown} v
 */
export function normalizeEnvironment(v) {
  if (typeof v !== 'string') return 'default';
  let env = v.trim().toLowerCase();
  if (env.startsWith('langfuse-')) env = env.slice('langfuse-'.length);
  return /^[a-z0-9_-]{1,40}$/.test(env) ? env : 'default';
}

/** Tags: an array attribute, or a JSON array in a string, or one string. @param {unknown} v */
function tags(v) {
  const parsed = jsonValue(v);
  if (Array.isArray(parsed)) return parsed.filter((t) => typeof t === 'string');
  return typeof parsed === 'string' && parsed ? [parsed] : [];
}

/** ISO time → ms, or null. @param {unknown} v */
function isoToMs(v) {
  if (typeof v !== 'string') return null;
  // @langfuse/tracing sends the time JSON-encoded (`"2026-…Z"`, with the quotes): its _serialize JSON.stringifies a Date.
  if (v.startsWith('"')) {
    try {
      v = JSON.parse(v);
    } catch {
      return null;
    }
    if (typeof v !== 'string') return null;
  }
  const ms = Date.parse(v);
  return Number.isFinite(ms) ? ms : null;
}

const meaningful = (v) => v != null && v !== '' && (!Array.isArray(v) || v.length > 0) && (typeof v !== 'object' || Object.keys(v).length > 0);
const GEN_AI_OPERATION_TYPES = {
  chat: 'generation', completion: 'generation', text_completion: 'generation', generate_content: 'generation', generate: 'generation',
  embeddings: 'embedding', invoke_agent: 'agent', create_agent: 'agent', execute_tool: 'tool',
};
const OPENINFERENCE_TYPES = { CHAIN: 'chain', RETRIEVER: 'retriever', LLM: 'generation', EMBEDDING: 'embedding', AGENT: 'agent', TOOL: 'tool', GUARDRAIL: 'guardrail', EVALUATOR: 'evaluator' };
const AI_SDK_GENERATION_OPS = ['ai.generateText.doGenerate', 'ai.streamText.doStream', 'ai.generateObject.doGenerate', 'ai.streamObject.doStream'];
const AI_SDK_EMBEDDING_OPS = ['ai.embedMany.doEmbed', 'ai.embed.doEmbed'];

/**
 * The observation type, in the order of Langfuse's ObservationTypeMapperRegistry (packages/shared/src/server/otel):
 * the declared `langfuse.observation.type`, OpenInference's span kind, `gen_ai.operation.name`, the Vercel AI SDK's
 * operation (generation/embedding with a model; `ai.toolCall` → tool), GenAI tool attributes, then a model → generation.
 * (Its first mapper, an override for Python SDK ≤ 3.3.0 spans, does not apply to anything sent here.)
 * @param {Map<string, unknown>} a
 */
function observationType(a) {
  const declared = a.get('langfuse.observation.type');
  if (typeof declared === 'string' && OBSERVATION_TYPES.includes(declared)) return declared;
  const kind = a.get('openinference.span.kind');
  if (typeof kind === 'string' && OPENINFERENCE_TYPES[kind]) return OPENINFERENCE_TYPES[kind];
  const op = a.get('gen_ai.operation.name');
  if (typeof op === 'string' && Object.hasOwn(GEN_AI_OPERATION_TYPES, op)) return GEN_AI_OPERATION_TYPES[op];
  const opName = a.get('operation.name');
  const opId = a.get('ai.operationId');
  const isOp = (/** @type {string[]} */ ids) =>
    (typeof opName === 'string' && ids.some((p) => opName.startsWith(p))) || (typeof opId === 'string' && ids.includes(opId));
  const hasModel = ['langfuse.observation.model.name', 'ai.model.id', 'gen_ai.request.model', 'gen_ai.response.model'].some((k) => meaningful(a.get(k)));
  if (hasModel && isOp(AI_SDK_GENERATION_OPS)) return 'generation';
  if (hasModel && isOp(AI_SDK_EMBEDDING_OPS)) return 'embedding';
  if (isOp(['ai.toolCall'])) return 'tool';
  if (meaningful(a.get('gen_ai.tool.name')) || meaningful(a.get('gen_ai.tool.call.id'))) return 'tool';
  if (['langfuse.observation.model.name', 'gen_ai.request.model', 'gen_ai.response.model', 'llm.model_name', 'model'].some((k) => meaningful(a.get(k)))) return 'generation';
  return 'span';
}

/** Keys read into named fields; every other attribute of a non-Langfuse scope is kept as metadata.attributes. */
const KNOWN = new Set([
  'langfuse.observation.type', 'langfuse.observation.input', 'langfuse.observation.output', 'langfuse.observation.metadata',
  'langfuse.observation.level', 'langfuse.observation.status_message', 'langfuse.observation.model.name',
  'langfuse.observation.model.parameters', 'langfuse.observation.usage_details', 'langfuse.observation.cost_details',
  'langfuse.observation.completion_start_time', 'langfuse.observation.prompt.name', 'langfuse.observation.prompt.version',
  'langfuse.trace.name', 'langfuse.trace.tags', 'langfuse.trace.public', 'langfuse.trace.metadata', 'langfuse.trace.input',
  'langfuse.trace.output', 'user.id', 'langfuse.user.id', 'session.id', 'langfuse.session.id', 'langfuse.environment',
  'langfuse.release', 'langfuse.version', ...MODEL_KEYS,
]);

/**
 * Maps one validated span (with its resource and scope) to an observation.
 * @param {any} span a span that passed spanSchema
 * @param {{ attributes?: { key: string, value?: unknown }[] } | undefined} resource
 * @param {{ name?: string, version?: string } | undefined} scope
 * @returns {Observation}
 */
export function spanToObservation(span, resource, scope) {
  const a = attributeMap(span.attributes);
  const r = attributeMap(resource?.attributes);
  /** Span attribute, else resource attribute (for the deployment-wide ones). @param {string} key */
  const wide = (key) => (a.has(key) ? a.get(key) : r.get(key));

  const type = observationType(a);

  /** @type {Record<string, unknown>} */
  const metadata = { ...jsonObject(a.get('langfuse.observation.metadata')) };
  /** @type {Record<string, unknown>} */
  const traceMetadata = { ...jsonObject(a.get('langfuse.trace.metadata')) };
  /** @type {Record<string, unknown>} */
  const otherAttributes = {};
  const foreignScope = !(scope?.name ?? '').startsWith('langfuse-sdk');
  for (const [key, value] of a) {
    if (key.startsWith(OBS_METADATA_PREFIX)) metadata[key.slice(OBS_METADATA_PREFIX.length)] = value;
    else if (key.startsWith(TRACE_METADATA_PREFIX)) traceMetadata[key.slice(TRACE_METADATA_PREFIX.length)] = value;
    else if (foreignScope && !KNOWN.has(key)) otherAttributes[key] = value;
  }
  if (Object.keys(otherAttributes).length > 0) metadata.attributes = otherAttributes;

  const declaredLevel = a.get('langfuse.observation.level');
  const statusCode = span.status?.code;
  const level =
    typeof declaredLevel === 'string' && LEVELS.includes(declaredLevel)
      ? declaredLevel
      : statusCode === 2 || statusCode === 'STATUS_CODE_ERROR'
        ? 'ERROR'
        : 'DEFAULT';

  const isGeneration = type === 'generation';
  const promptVersion = Number(a.get('langfuse.observation.prompt.version'));
  const isPublic = a.get('langfuse.trace.public');
  const gotUsage = details(a.get('langfuse.observation.usage_details'), { integers: true, addTotal: true });
  const genAiUsage = details(
    { input: a.get('gen_ai.usage.input_tokens'), output: a.get('gen_ai.usage.output_tokens') },
    { integers: true, addTotal: true },
  );

  return {
    id: span.spanId,
    traceId: span.traceId,
    parentObservationId: span.parentSpanId || null,
    type,
    name: span.name,
    kind: span.kind ?? null,
    startTime: nanosToMs(span.startTimeUnixNano),
    endTime: nanosToMs(span.endTimeUnixNano),
    input: str(a.get('langfuse.observation.input')),
    output: str(a.get('langfuse.observation.output')),
    metadata,
    level,
    statusMessage: str(a.get('langfuse.observation.status_message') ?? (span.status?.message || null)),
    model: str(MODEL_KEYS.map((k) => a.get(k)).find((v) => v != null)),
    modelParameters: jsonValue(a.get('langfuse.observation.model.parameters')),
    usageDetails: gotUsage ?? genAiUsage,
    costDetails: details(a.get('langfuse.observation.cost_details'), { integers: false, addTotal: false }),
    completionStartTime: isoToMs(a.get('langfuse.observation.completion_start_time')),
    promptName: isGeneration ? str(a.get('langfuse.observation.prompt.name')) : null,
    promptVersion: isGeneration && Number.isInteger(promptVersion) ? promptVersion : null,
    trace: {
      name: str(a.get('langfuse.trace.name')),
      userId: str(a.get('user.id') ?? a.get('langfuse.user.id')),
      sessionId: str(a.get('session.id') ?? a.get('langfuse.session.id')),
      tags: tags(a.get('langfuse.trace.tags')),
      public: typeof isPublic === 'boolean' ? isPublic : isPublic === 'true' ? true : isPublic === 'false' ? false : null,
      metadata: traceMetadata,
    },
    environment: normalizeEnvironment(wide('langfuse.environment')),
    release: str(wide('langfuse.release')),
    version: str(wide('langfuse.version')),
    serviceName: str(r.get('service.name')),
    serviceVersion: str(r.get('service.version')),
    scope: { name: scope?.name ?? null, version: scope?.version ?? null },
  };
}

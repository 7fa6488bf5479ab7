// What an OpenAI call records, by @langfuse/openai's rules (5.11.1): request → model, input, parameters; response
// → output, usage, model data; stream chunks → text, tool-call deltas, usage. Same keys, same shapes.

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null;

/** Request parameters Langfuse records as model parameters (absent ones vanish in JSON). */
const REQUEST_PARAMS = [
  'frequency_penalty', 'logit_bias', 'logprobs', 'max_tokens', 'n', 'presence_penalty', 'seed', 'stop', 'stream',
  'temperature', 'top_p', 'user', 'response_format', 'top_logprobs',
] as const;

export interface ParsedRequest {
  model: unknown;
  input: unknown;
  modelParameters: Obj;
}

/** Model, input (chat: messages plus function/tool fields; responses: `input`; completions: `prompt`) and parameters. */
export function parseRequest(args: Obj): ParsedRequest {
  const modelParameters: Obj = {};
  for (const key of REQUEST_PARAMS) modelParameters[key] = args[key];
  let input: unknown = args.input;
  if (!Array.isArray(args) && 'messages' in args) {
    const chat: Obj = { messages: args.messages };
    for (const key of ['function_call', 'functions', 'tools', 'tool_choice']) if (key in args) chat[key] = args[key];
    input = chat;
  } else if (!input) {
    input = args.prompt;
  }
  return { model: args.model, input, modelParameters };
}

/** The output of a whole response: `output_text`, else the responses `output` items, else the first choice. */
export function parseOutput(res: unknown): unknown {
  if (isObj(res) && 'output_text' in res && res.output_text !== '') return res.output_text;
  if (isObj(res) && Array.isArray(res.output)) {
    if (res.output.length > 1) return res.output;
    if (res.output.length === 1) return res.output[0];
    return null;
  }
  if (!(isObj(res) && Array.isArray(res.choices))) return '';
  const first = res.choices[0] as Obj;
  return 'message' in first ? first.message : (first.text ?? '');
}

/** Prefixes each entry of a details object (`cached_tokens` → `input_cached_tokens`). */
function prefixed(prefix: string, details: unknown): Obj {
  const out: Obj = {};
  if (isObj(details)) for (const [key, value] of Object.entries(details)) out[`${prefix}_${key}`] = value;
  return out;
}

/** Subtracts every detail count from the total, not below 0 (Langfuse's input/output exclude the detailed parts). */
function remainder(total: unknown, details: Obj): unknown {
  let left = total;
  for (const value of Object.values(details)) left = Math.max((left as number) - (value as number), 0);
  return left;
}

/** Usage flattened: input, output, total and `input_*` / `output_*` details (chat and responses shapes). */
export function parseUsage(usage: unknown): Obj | undefined {
  if (!isObj(usage)) return undefined;
  if ('prompt_tokens' in usage) {
    const inDetails = prefixed('input', usage.prompt_tokens_details);
    const outDetails = prefixed('output', usage.completion_tokens_details);
    return {
      input: remainder(usage.prompt_tokens, inDetails),
      output: remainder(usage.completion_tokens, outDetails),
      total: usage.total_tokens,
      ...inDetails,
      ...outDetails,
    };
  }
  if ('input_tokens' in usage) {
    const inDetails = prefixed('input', usage.input_tokens_details);
    const outDetails = prefixed('output', usage.output_tokens_details);
    return {
      input: remainder(usage.input_tokens, inDetails),
      output: remainder(usage.output_tokens, outDetails),
      total: usage.total_tokens,
      ...inDetails,
      ...outDetails,
    };
  }
  return undefined;
}

/** A response's usage, when it has complete chat or responses counts. */
export function parseResponseUsage(res: unknown): Obj | undefined {
  if (!isObj(res) || !isObj(res.usage)) return undefined;
  const u = res.usage;
  const num = (v: unknown) => typeof v === 'number';
  const chat = num(u.prompt_tokens) && num(u.completion_tokens) && num(u.total_tokens);
  const responses = num(u.input_tokens) && num(u.output_tokens) && num(u.total_tokens);
  return chat || responses ? parseUsage(u) : undefined;
}

const RESPONSE_PARAMS = ['max_output_tokens', 'parallel_tool_calls', 'store', 'temperature', 'tool_choice', 'top_p', 'truncation', 'user'];
const RESPONSE_METADATA = ['reasoning', 'incomplete_details', 'instructions', 'previous_response_id', 'tools', 'metadata', 'status', 'error'];

/** Model, non-null parameters and truthy metadata fields a (responses API) response states about itself. */
export function parseResponseModelData(res: unknown): { model?: unknown; modelParameters?: Obj; metadata?: Obj } {
  if (!isObj(res)) return {};
  const modelParameters: Obj = {};
  const metadata: Obj = {};
  for (const key of RESPONSE_PARAMS) if (key in res && res[key] != null) modelParameters[key] = res[key];
  for (const key of RESPONSE_METADATA) if (key in res && res[key]) metadata[key] = res[key];
  return {
    model: 'model' in res ? res.model : undefined,
    modelParameters: Object.keys(modelParameters).length > 0 ? modelParameters : undefined,
    metadata: Object.keys(metadata).length > 0 ? metadata : undefined,
  };
}

/** One chunk's contribution: text, or the first tool-call delta. */
export function parseChunk(chunk: unknown): { isToolCall: boolean; data: unknown } {
  const choice = isObj(chunk) && Array.isArray(chunk.choices) ? (chunk.choices[0] as unknown) : undefined;
  if (isObj(choice)) {
    const delta = choice.delta;
    if ('delta' in choice && isObj(delta) && Array.isArray(delta.tool_calls)) return { isToolCall: true, data: delta.tool_calls[0] };
    if ('delta' in choice) return { isToolCall: false, data: (isObj(delta) && delta.content) || '' };
    if ('text' in choice) return { isToolCall: false, data: choice.text || '' };
  }
  return { isToolCall: false, data: '' };
}

/** Streamed tool-call deltas as one call: the last name seen and the arguments concatenated. */
export function toolCallOutput(deltas: unknown[]): Obj {
  let name = '';
  let args = '';
  for (const d of deltas) {
    const fn = isObj(d) && isObj(d.function) ? d.function : undefined;
    name = (fn?.name as string) || name;
    args += (fn?.arguments as string) || '';
  }
  return { tool_calls: [{ function: { name, arguments: args } }] };
}

/** What a stream's chunks add up to, by Langfuse's rules (collected chunk by chunk as the app reads them). */
export class StreamAccumulator {
  text: unknown[] = [];
  toolDeltas: unknown[] = [];
  usage: unknown = null;
  /** From a responses-API event that carries the whole response. */
  output: unknown = null;
  usageDetails: Obj | undefined;
  /** Model data of every response event, merged as successive updates merge (metadata key by key). */
  model: unknown;
  modelParameters: Obj | undefined;
  metadata: Obj | undefined;
  /** WebLLM's timings (`usage.extra`), kept as metadata. */
  extra: unknown;

  add(chunk: unknown): void {
    if (isObj(chunk) && 'response' in chunk) {
      const res = chunk.response;
      this.output = parseOutput(res);
      this.usageDetails = parseResponseUsage(res);
      const data = parseResponseModelData(res);
      if (data.model !== undefined) this.model = data.model;
      if (data.modelParameters !== undefined) this.modelParameters = data.modelParameters;
      if (data.metadata !== undefined) this.metadata = { ...this.metadata, ...data.metadata };
    }
    if (isObj(chunk) && 'usage' in chunk) {
      this.usage = chunk.usage;
      if (isObj(chunk.usage) && isObj(chunk.usage.extra)) this.extra = chunk.usage.extra;
    }
    const part = parseChunk(chunk);
    if (part.isToolCall) this.toolDeltas.push(part.data);
    else this.text.push(part.data);
  }

  finalOutput(): unknown {
    return this.output ?? (this.toolDeltas.length > 0 ? toolCallOutput(this.toolDeltas) : this.text.join(''));
  }

  finalUsage(): Obj | undefined {
    return this.usageDetails ?? (this.usage ? parseUsage(this.usage) : undefined);
  }
}

/** WebLLM's `usage.extra` (latencies, tokens per second) of a whole response, if any. */
export function usageExtra(res: unknown): unknown {
  return isObj(res) && isObj(res.usage) && isObj(res.usage.extra) ? res.usage.extra : undefined;
}

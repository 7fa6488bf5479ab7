// A small OpenAI-compatible server for the demo's chat and the integration tests (127.0.0.1 only): POST
// …/chat/completions and …/responses, streamed (SSE) or not, deterministic answers (fixed ids and timestamps, so two
// runs can be compared byte for byte), usage with details, a tool call when the request offers tools, and errors on
// demand. It is a stand-in for api.openai.com, which tests cannot reach; the `openai` package talking to it is real.
//
// Models: any name answers; `missing-model` → 404 (model_not_found); `broken-stream` streams two chunks then an SSE
// error event; `slow-model` streams 40 chunks 40 ms apart (for aborts). Chunk spacing otherwise: `delayMs` (default 5).
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CREATED = 1_765_000_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The answer's words for a request: a deterministic echo of the last user message. */
function answerWords(body) {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  let text = typeof lastUser?.content === 'string' ? lastUser.content : typeof body.input === 'string' ? body.input : '';
  if (Array.isArray(body.input)) text = String(body.input.at(-1)?.content ?? '');
  const words = `You said: ${text}`.split(' ');
  return words.map((w, i) => (i === 0 ? w : ' ' + w));
}

function chatUsage(promptTokens, completionTokens) {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 2, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 1, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function responsesUsage(inputTokens, outputTokens) {
  return {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 3 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: inputTokens + outputTokens,
  };
}

const promptTokensOf = (body) => 10 + JSON.stringify(body.messages ?? body.input ?? '').length % 17;

function json(res, status, value, cors) {
  res.writeHead(status, { 'content-type': 'application/json', ...cors });
  res.end(JSON.stringify(value));
}

function sse(res, cors) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', ...cors });
  res.flushHeaders?.();
}

const send = (res, data, event) => {
  if (res.destroyed) return false;
  res.write((event ? `event: ${event}\n` : '') + `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
  return true;
};

async function chat(body, res, cors, delayMs) {
  const model = body.model === 'slow-model' ? 'slow-model' : `${body.model}-2026-01-01`;
  const id = 'chatcmpl-outbox-1';
  const wantsTool = Array.isArray(body.tools) && body.tools.length > 0 && !(body.messages ?? []).some((m) => m.role === 'tool');
  const words = body.model === 'slow-model' ? Array.from({ length: 40 }, (_, i) => ` w${i}`) : answerWords(body);
  const promptTokens = promptTokensOf(body);
  const toolCall = { id: 'call_outbox_1', type: 'function', function: { name: body.tools?.[0]?.function?.name ?? 'tool', arguments: '{"city":"Paris"}' } };
  if (!body.stream) {
    const message = wantsTool
      ? { role: 'assistant', content: null, tool_calls: [toolCall], refusal: null, annotations: [] }
      : { role: 'assistant', content: words.join(''), refusal: null, annotations: [] };
    json(res, 200, {
      id, object: 'chat.completion', created: CREATED, model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: wantsTool ? 'tool_calls' : 'stop' }],
      usage: chatUsage(promptTokens, wantsTool ? 9 : words.length),
      service_tier: 'default', system_fingerprint: 'fp_outbox',
    }, cors);
    return;
  }
  sse(res, cors);
  const spacing = body.model === 'slow-model' ? 40 : delayMs;
  const chunk = (delta, finish = null, extra = {}) => ({
    id, object: 'chat.completion.chunk', created: CREATED, model, system_fingerprint: 'fp_outbox',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra,
  });
  const withUsage = body.stream_options?.include_usage === true;
  const usageField = withUsage ? { usage: null } : {};
  await sleep(spacing);
  if (!send(res, chunk({ role: 'assistant', content: wantsTool ? null : '', refusal: null }, null, usageField))) return;
  if (wantsTool) {
    const args = ['{"ci', 'ty":"Pa', 'ris"}'];
    send(res, chunk({ tool_calls: [{ index: 0, id: toolCall.id, type: 'function', function: { name: toolCall.function.name, arguments: '' } }] }, null, usageField));
    for (const a of args) {
      await sleep(spacing);
      if (!send(res, chunk({ tool_calls: [{ index: 0, function: { arguments: a } }] }, null, usageField))) return;
    }
  } else {
    for (const [i, w] of words.entries()) {
      await sleep(spacing);
      if (body.model === 'broken-stream' && i === 2) {
        send(res, { error: { message: 'the upstream model crashed', type: 'server_error', code: 'model_crashed' } });
        res.end();
        return;
      }
      if (!send(res, chunk({ content: w }, null, usageField))) return;
    }
  }
  await sleep(spacing);
  if (!send(res, chunk({}, wantsTool ? 'tool_calls' : 'stop', usageField))) return;
  if (withUsage) {
    send(res, { id, object: 'chat.completion.chunk', created: CREATED, model, system_fingerprint: 'fp_outbox', choices: [], usage: chatUsage(promptTokens, wantsTool ? 9 : words.length) });
  }
  send(res, '[DONE]');
  res.end();
}

function responseObject(body, status, output, usage) {
  return {
    id: 'resp_outbox_1', object: 'response', created_at: CREATED, status, background: false, error: null, incomplete_details: null,
    instructions: body.instructions ?? null, max_output_tokens: body.max_output_tokens ?? null, model: `${body.model}-2026-01-01`,
    output, parallel_tool_calls: true, previous_response_id: null, reasoning: { effort: null, summary: null }, store: false,
    temperature: body.temperature ?? 1, text: { format: { type: 'text' } }, tool_choice: 'auto', tools: body.tools ?? [], top_p: 1,
    truncation: 'disabled', usage, user: null, metadata: {},
  };
}

async function responses(body, res, cors, delayMs) {
  const words = answerWords(body);
  const text = words.join('');
  const message = { id: 'msg_outbox_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] };
  const usage = responsesUsage(promptTokensOf(body), words.length);
  if (!body.stream) {
    json(res, 200, responseObject(body, 'completed', [message], usage), cors);
    return;
  }
  sse(res, cors);
  let seq = 0;
  const event = (type, fields) => send(res, { type, sequence_number: seq++, ...fields }, type);
  await sleep(delayMs);
  event('response.created', { response: responseObject(body, 'in_progress', [], null) });
  event('response.output_item.added', { output_index: 0, item: { ...message, status: 'in_progress', content: [] } });
  for (const w of words) {
    await sleep(delayMs);
    if (!event('response.output_text.delta', { item_id: message.id, output_index: 0, content_index: 0, delta: w, logprobs: [] })) return;
  }
  event('response.output_text.done', { item_id: message.id, output_index: 0, content_index: 0, text, logprobs: [] });
  event('response.output_item.done', { output_index: 0, item: message });
  await sleep(delayMs);
  event('response.completed', { response: responseObject(body, 'completed', [message], usage) });
  res.end();
}

/**
 * A request listener answering the OpenAI API paths under any prefix (`/v1/chat/completions`, `/llm/v1/responses`…).
 * @param {{ delayMs?: number }} [opts] spacing of streamed chunks, default 5 ms
 * @returns {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void}
 */
export function createLlmListener({ delayMs = 5 } = {}) {
  return (req, res) => {
    const origin = req.headers.origin;
    const cors = origin ? { 'access-control-allow-origin': origin, 'access-control-allow-headers': '*', 'access-control-allow-methods': 'POST, OPTIONS', vary: 'origin' } : {};
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      res.end();
      return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        json(res, 400, { error: { message: 'invalid JSON body', type: 'invalid_request_error', code: null } }, cors);
        return;
      }
      const path = (req.url ?? '').split('?')[0];
      if (body.model === 'missing-model') {
        json(res, 404, { error: { message: 'The model `missing-model` does not exist', type: 'invalid_request_error', param: null, code: 'model_not_found' } }, cors);
        return;
      }
      const work = path.endsWith('/chat/completions') ? chat(body, res, cors, delayMs) : path.endsWith('/responses') ? responses(body, res, cors, delayMs) : null;
      if (!work) {
        json(res, 404, { error: { message: `no route ${path}`, type: 'invalid_request_error', code: null } }, cors);
        return;
      }
      work.catch(() => res.destroy());
    });
  };
}

/**
 * Starts the server on 127.0.0.1 (port 0 picks a free one).
 * @param {{ port?: number, delayMs?: number }} [opts]
 * @returns {Promise<{ url: string, baseURL: string, close(): Promise<void> }>} baseURL: url + '/v1' (the client's)
 */
export async function startLlmServer({ port = 0, delayMs } = {}) {
  const sockets = new Set();
  const server = http.createServer(createLlmListener({ delayMs }));
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    baseURL: `${url}/v1`,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * The demo's mount at /llm: GET /llm/chat.js is the page's chat client (demo/llm/chat-entry.mjs with the `openai`
 * package and dist/openai.js, bundled by esbuild on first request); everything else is the OpenAI-compatible API
 * (/llm/v1/chat/completions, /llm/v1/responses), streaming a chunk every `delayMs` so the answer visibly streams.
 * @param {{ delayMs?: number }} [opts] default 40 ms
 * @returns {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void}
 */
export function createDemoLlmMount({ delayMs = 40 } = {}) {
  const api = createLlmListener({ delayMs });
  /** @type {Promise<string> | undefined} */
  let bundle;
  const buildBundle = async () => {
    const { build } = await import('esbuild');
    const result = await build({
      entryPoints: [path.join(path.dirname(fileURLToPath(import.meta.url)), 'chat-entry.mjs')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      minify: true,
      write: false,
      logLevel: 'error',
    });
    return result.outputFiles[0].text;
  };
  return (req, res) => {
    if ((req.url ?? '').split('?')[0] !== '/llm/chat.js') return api(req, res);
    bundle ??= buildBundle();
    bundle.then(
      (code) => {
        res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
        res.end(code);
      },
      (error) => {
        bundle = undefined;
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`could not bundle the chat client: ${error.message}`);
      },
    );
  };
}

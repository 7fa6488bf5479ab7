// The demo page's chat client, bundled for the page by esbuild (demo/llm/server.mjs serves it at /llm/chat.js): the
// real `openai` package against the demo's local OpenAI-compatible server, instrumented with one line.
import OpenAI from 'openai';
import { observeOpenAI } from '../../dist/openai.js';

/**
 * An OpenAI client whose calls are recorded through `outbox` (one generation each: model, usage, time to first token).
 * @param {import('../../dist/openai.js').ObservationParent} outbox
 */
export function createChatClient(outbox) {
  const openai = new OpenAI({ apiKey: 'sk-demo-local', baseURL: `${location.origin}/llm/v1`, dangerouslyAllowBrowser: true });
  return observeOpenAI(openai, { outbox, traceName: 'llm-chat', userId: 'demo-user', tags: ['demo', 'openai'] });
}

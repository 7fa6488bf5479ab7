// The demo's model chat: the page's chat client (/llm/chat.js: the real `openai` package wrapped by outbox/openai)
// asks the local model server for a streamed answer; each call becomes one generation in the traces panel, with its
// model, usage and time to first token.

/**
 * Wires the question field and the "ask the model" button.
 * @param {() => import('/dist/openai.js').ObservationParent} getOutbox the page's current client
 * @param {(message: string) => void} log
 */
export function wireLlmChat(getOutbox, log) {
  const question = /** @type {HTMLInputElement} */ (document.getElementById('llm-question'));
  const ask = /** @type {HTMLButtonElement} */ (document.getElementById('llm-ask'));
  const answer = /** @type {HTMLOutputElement} */ (document.getElementById('llm-answer'));
  /** @type {WeakMap<object, any>} one wrapped client per Outbox client */
  const clients = new WeakMap();
  ask.addEventListener('click', async () => {
    ask.disabled = true;
    answer.textContent = '';
    try {
      const { createChatClient } = await import('/llm/chat.js');
      const outbox = getOutbox();
      if (!clients.has(outbox)) clients.set(outbox, createChatClient(outbox));
      const openai = clients.get(outbox);
      const t0 = performance.now();
      let firstMs = -1;
      const stream = await openai.chat.completions.create({
        model: 'demo-model',
        messages: [{ role: 'user', content: question.value }],
        stream: true,
        stream_options: { include_usage: true },
      });
      for await (const chunk of stream) {
        if (firstMs < 0) firstMs = performance.now() - t0;
        answer.textContent += chunk.choices[0]?.delta?.content ?? '';
      }
      log(`the model answered (first chunk after ${Math.round(firstMs)} ms): one generation recorded, see the traces`);
    } catch (error) {
      log(`the model call failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      ask.disabled = false;
    }
  });
}

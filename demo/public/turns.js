// What the demo page records, shaped like a Langfuse user's traces: a chat turn is a span holding a generation
// (model, parameters, usage, input and output) that called a tool, plus a score; a burst is many small
// "index a document" traces. Timings are made up around `now` (start/end times are passed explicitly), so the
// buttons record at once and the durations in the trace tree still read like a real turn.

const QUESTIONS = [
  'How do I reset my password?',
  'Which plans include SSO?',
  'Can I export my data as CSV?',
  'Why was my card declined?',
  'How do I invite a teammate?',
];
const ANSWERS = [
  'Open Settings → Security and choose "Reset password"; the link is valid for one hour.',
  'SSO (SAML and OIDC) is part of the Team and Enterprise plans.',
  'Yes: every table has an "Export" menu with CSV and JSON.',
  'The bank refused the charge; the billing page shows its reason code.',
  'Go to Members → Invite and enter their e-mail address.',
];

/** A rough token count, as a tokenizer would give for English text. @param {string} text */
const tokens = (text) => Math.max(1, Math.round(text.length / 4));

/**
 * Records one chat turn: `chat-turn` (span) → `answer` (generation) → `search-docs` (tool), and a score on the
 * trace. Returns the trace id.
 * @param {import('/dist/types/index').Outbox} outbox
 * @param {{ n: number, sessionId: string, userId: string, now?: number }} turn
 */
export function recordChatTurn(outbox, { n, sessionId, userId, now = Date.now() }) {
  const i = n % QUESTIONS.length;
  const question = QUESTIONS[i];
  const answer = ANSWERS[i];
  const t0 = now - 1400;
  const root = outbox.startObservation(
    'chat-turn',
    { input: { question }, metadata: { turn: n } },
    { startTime: t0, trace: { name: 'support-chat', userId, sessionId, tags: ['demo', 'chat'] } },
  );
  const generation = root.startObservation(
    'answer',
    {
      model: 'gpt-4o-mini',
      modelParameters: { temperature: 0.2, max_tokens: 256 },
      input: [
        { role: 'system', content: 'You answer questions about the product, briefly.' },
        { role: 'user', content: question },
      ],
    },
    { asType: 'generation', startTime: t0 + 30 },
  );
  const tool = generation.startObservation('search-docs', { input: { query: question, topK: 3 } }, { asType: 'tool', startTime: t0 + 180 });
  tool.update({ output: { hits: [`docs/faq#${i}`, `docs/plans#${i}`] } });
  tool.end(t0 + 520);
  const promptTokens = 24 + tokens(question) + 60;
  generation.update({
    output: { role: 'assistant', content: answer },
    usageDetails: { input: promptTokens, output: tokens(answer) },
    completionStartTime: t0 + 700,
  });
  generation.end(t0 + 1300);
  root.update({ output: { answer } });
  root.end(t0 + 1350);
  outbox.score({ name: 'answer-relevance', value: Number((0.6 + ((n * 37) % 40) / 100).toFixed(2)), dataType: 'NUMERIC', traceId: root.traceId });
  return root.traceId;
}

/**
 * Records `count` observations as small traces of four: `index-document` (span) → `embed` (embedding) and
 * `store-vectors` (tool), and a `pii-check` (guardrail). Returns the number of traces.
 * @param {import('/dist/types/index').Outbox} outbox
 * @param {number} count a multiple of 4
 */
export function recordBurst(outbox, count, now = Date.now()) {
  const traces = Math.floor(count / 4);
  for (let d = 0; d < traces; d++) {
    const t0 = now - 300;
    const text = `Document ${d}: release notes, section ${d % 12}.`;
    const root = outbox.startObservation('index-document', { input: { doc: d } }, { startTime: t0, trace: { name: 'indexing', tags: ['demo', 'burst'] } });
    root.startObservation('pii-check', { output: { passed: true } }, { asType: 'guardrail', startTime: t0 + 5 }).end(t0 + 15);
    const embed = root.startObservation('embed', { model: 'text-embedding-3-small', input: text }, { asType: 'embedding', startTime: t0 + 20 });
    embed.update({ usageDetails: { input: tokens(text) } });
    embed.end(t0 + 120);
    root.startObservation('store-vectors', { input: { doc: d, dims: 1536 } }, { asType: 'tool', startTime: t0 + 130 }).end(t0 + 180);
    root.end(t0 + 200);
  }
  return traces;
}

// A Node script: one chat turn traced as a span with a generation inside, a score on it, then a clean exit.
// Configured from the environment only: LANGFUSE_BASE_URL, LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY.
//   npx tsx trace.ts        (or, Node ≥ 22.6: node --experimental-strip-types trace.ts)
import { createOutbox } from 'outbox';

const outbox = createOutbox(); // every setting from LANGFUSE_* in process.env

const question = 'How do I reset my password?';
const turn = outbox.startObservation(
  'chat-turn',
  { input: { question } },
  { trace: { name: 'support-chat', userId: 'user-42', sessionId: 'session-7' } },
);
const answer = turn.startObservation(
  'answer',
  { model: 'gpt-4o-mini', input: [{ role: 'user', content: question }] },
  { asType: 'generation' },
);
const reply = 'Open Settings, then Security, then Reset password.';
answer.update({ output: { role: 'assistant', content: reply }, usageDetails: { input: 12, output: 11 } });
answer.end();
turn.update({ output: { reply } });
turn.end();
outbox.score({ name: 'answer-relevance', value: 0.9, traceId: turn.traceId });

await outbox.shutdown(); // sends everything queued and waits for the answers; never rejects
const { sent, dropped } = outbox.stats();
console.log(`sent ${sent} records, dropped ${Object.values(dropped).reduce((a, b) => a + b, 0)}`);

// The page: records a chat turn (a span with a generation inside) per question and a score per thumbs-up, and
// sends them to the relay on its own origin (/lf) with the public key only. Bundled by build.mjs (esbuild).
import { createOutbox } from 'outbox';

const publicKey = document.querySelector<HTMLMetaElement>('meta[name="langfuse-public-key"]')?.content ?? '';
const outbox = createOutbox({ relay: '/lf', publicKey });

const form = document.querySelector<HTMLFormElement>('#ask')!;
const log = document.querySelector<HTMLOListElement>('#log')!;
let lastTraceId: string | undefined;

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const question = new FormData(form).get('question')?.toString() ?? '';
  const turn = outbox.startObservation('chat-turn', { input: { question } }, { trace: { name: 'support-chat' } });
  const answer = turn.startObservation('answer', { model: 'gpt-4o-mini', input: [{ role: 'user', content: question }] }, { asType: 'generation' });
  const reply = `You asked: ${question}`; // your model call goes here
  answer.update({ output: { role: 'assistant', content: reply }, usageDetails: { input: 8, output: 6 } });
  answer.end();
  turn.update({ output: { reply } });
  turn.end();
  lastTraceId = turn.traceId;
  log.append(Object.assign(document.createElement('li'), { textContent: reply }));
});

document.querySelector('#thumbs-up')!.addEventListener('click', () => {
  if (lastTraceId) outbox.score({ name: 'user-feedback', value: 1, traceId: lastTraceId, dataType: 'BOOLEAN' });
});

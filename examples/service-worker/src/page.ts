// The page: registers the service worker and records scores through the relay. It needs no option for the
// worker: when one controls the page, createOutbox() hands it what it cannot deliver and asks it to replay.
import { createOutbox } from 'outbox';

void navigator.serviceWorker?.register('/sw.js');

const publicKey = document.querySelector<HTMLMetaElement>('meta[name="langfuse-public-key"]')?.content ?? '';
const outbox = createOutbox({ relay: '/lf', publicKey });

document.querySelector('#rate')!.addEventListener('click', () => {
  outbox.score({ name: 'page-rating', value: 5, sessionId: 'visit-1', comment: 'rated from the service-worker example' });
  void outbox.flush();
});
Object.assign(window, { outbox }); // for the console: outbox.stats().handedOff counts what the worker took over

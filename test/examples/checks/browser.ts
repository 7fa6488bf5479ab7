// Compiled by test/examples/examples.test.ts with the DOM lib and no Node types: a page's code.
import { createOutbox, OutboxOptionsError, type Observation, type Outbox } from 'outbox';

export const outbox: Outbox = createOutbox({ relay: '/lf', publicKey: 'pk-lf-1' });
export const span: Observation = outbox.startObservation('page-view', { input: { path: location.pathname } });
// @ts-expect-error not an option
createOutbox({ notAnOption: 1 });
// @ts-expect-error the page's createOutbox needs at least where to send (relay, baseUrl or endpoint)
createOutbox();
export { OutboxOptionsError };

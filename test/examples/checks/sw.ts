// Compiled by test/examples/examples.test.ts with the WebWorker lib: a service worker's code.
import { installOutboxSync, REPLAY_MESSAGE_TYPE, type OutboxSync } from 'outbox/sw';

export const sync: OutboxSync = installOutboxSync({ endpoint: '/lf/api/public/ingestion' });
// @ts-expect-error not an option
installOutboxSync({ endpoint: '/x', notAnOption: 1 });
export { REPLAY_MESSAGE_TYPE };

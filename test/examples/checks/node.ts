// Compiled (never run) by test/examples/examples.test.ts in the app that installed the packed tarball: what Node
// code may and may not write. Each @ts-expect-error fails the compile if the types fell back to `any`.
import { createOutbox, OutboxOptionsError, type DropInfo, type Outbox } from 'outbox';
import { OutboxSpanProcessor } from 'outbox/otel';
import { createRelay, toNodeListener } from 'outbox/relay';

const fromEnv: Outbox = createOutbox(); // Node: every setting may come from LANGFUSE_* in process.env
const explicit = createOutbox({ baseUrl: 'https://cloud.langfuse.com', publicKey: 'pk', secretKey: 'sk', onDrop: (d: DropInfo) => void d.count });
// @ts-expect-error not an option
createOutbox({ notAnOption: 1 });
// @ts-expect-error flushAt is a number
createOutbox({ flushAt: '10' });
// @ts-expect-error not an option of the processor either
new OutboxSpanProcessor({ notAnOption: 1 });
// @ts-expect-error not a relay option
createRelay({ notAnOption: 1 });
const listener: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void = toNodeListener(createRelay({}));
export { explicit, fromEnv, listener, OutboxOptionsError };

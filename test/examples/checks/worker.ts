// Compiled by test/examples/examples.test.ts with @cloudflare/workers-types and no DOM lib.
import { createOutbox, withOutbox, type Outbox } from 'outbox/worker';
import { createRelay, OutboxDedup } from 'outbox/relay';

interface Env {
  LANGFUSE_SECRET_KEY: string;
}
export const handler = withOutbox<Env>({}, {
  async fetch(_request, env, ctx, outbox: Outbox) {
    const key: string = env.LANGFUSE_SECRET_KEY; // env is Env, not unknown
    ctx.waitUntil(outbox.flush());
    return new Response(key.length > 0 ? 'ok' : 'no key');
  },
});
export const perRequest = (env: Env, ctx: ExecutionContext): Outbox => createOutbox({ env, ctx });
// @ts-expect-error not an option
createOutbox({ notAnOption: 1 });
// @ts-expect-error not an option
withOutbox({ notAnOption: 1 }, {});
export const relay = { fetch: createRelay({ allowOrigins: ['https://app.example'] }) } satisfies ExportedHandler;
// The shared dedup window: the real binding and state types fit the relay's option and the object's constructor.
interface RelayEnv {
  OUTBOX_DEDUP: DurableObjectNamespace;
}
export { OutboxDedup };
export const sharedRelay = { fetch: createRelay({ dedup: (env: RelayEnv) => env.OUTBOX_DEDUP }) } satisfies ExportedHandler<RelayEnv>;
export const dedupObject = (state: DurableObjectState): DurableObject => new OutboxDedup(state);
// @ts-expect-error a Queues producer is not a Durable Object namespace
createRelay({ dedup: {} as Queue });

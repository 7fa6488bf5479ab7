// A Cloudflare Worker traced with Outbox: each request gets its own client as the handler's last argument; what it
// records is sent after the response, inside ctx.waitUntil. Keys come from the Worker's env:
//   wrangler secret put LANGFUSE_SECRET_KEY   (LANGFUSE_PUBLIC_KEY and LANGFUSE_BASE_URL as vars in wrangler.jsonc)
import { withOutbox } from 'outbox/worker';

interface Env {
  LANGFUSE_BASE_URL: string;
  LANGFUSE_PUBLIC_KEY: string;
  LANGFUSE_SECRET_KEY: string;
  GREETING?: string;
}

export default withOutbox<Env>({ environment: 'production' }, {
  async fetch(request, env, _ctx, outbox) {
    const url = new URL(request.url);
    const turn = outbox.startObservation('handle-request', { input: { path: url.pathname } }, { trace: { name: 'worker-request' } });
    const answer = turn.startObservation('answer', { model: 'gpt-4o-mini', input: url.searchParams.get('q') ?? '' }, { asType: 'generation' });
    const text = `${env.GREETING ?? 'Hello'} from the Worker`;
    answer.update({ output: text, usageDetails: { input: 4, output: 5 } });
    answer.end();
    turn.end();
    outbox.score({ name: 'served', value: 1, traceId: turn.traceId });
    return new Response(text); // the response goes out first; the trace follows in ctx.waitUntil
  },
});

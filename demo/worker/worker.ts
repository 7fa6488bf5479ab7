/**
 * The demo Worker: every request tracks one `worker-request` event through `outbox/worker`'s `withOutbox`, which
 * sends it to the collector after the response (ctx.waitUntil). The collector endpoint comes from the Worker's
 * env (`OUTBOX_ENDPOINT`, a var set by demo/worker/run.mjs), so the options name only the keys.
 */
import { withOutbox } from '../../src/worker';

interface Env {
  OUTBOX_ENDPOINT: string;
}

/** The dashboard page (another origin) calls this Worker with fetch(): allow it. */
const CORS = { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, POST, OPTIONS' };
/** Marks answers from this Worker, so run.mjs can tell it is ready (and not a dev-server error page). */
const READY_HEADER = { 'x-outbox-demo': 'worker' };

export default withOutbox<Env>({ publicKey: 'pk-demo-worker', secretKey: 'sk-demo-worker' }, {
  async fetch(request, _env, _ctx, outbox) {
    const url = new URL(request.url);
    if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: { ...CORS, ...READY_HEADER } });
    // The readiness probe of run.mjs: answered, not tracked.
    if (url.pathname === '/healthz') return new Response('ok', { headers: { ...CORS, ...READY_HEADER } });
    const id = outbox.track('worker-request', {
      method: request.method,
      path: url.pathname,
      userAgent: request.headers.get('user-agent') ?? '',
    });
    return Response.json({ tracked: id, note: 'the event is sent after this response, inside ctx.waitUntil' }, { headers: { ...CORS, ...READY_HEADER } });
  },
});

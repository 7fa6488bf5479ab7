/**
 * The demo Worker for `npm run demo:worker`, two things in one script:
 * - `/lf/…`: the Outbox relay (`outbox/relay`), as a site would deploy it for its pages. The demo page (on the
 *   collector's origin) sends its traces and scores here with its public key; the relay forwards them to the
 *   collector (Langfuse v4 mode) with the secret key.
 * - `/demo/…`: a Worker traced with `withOutbox` (`outbox/worker`): each request becomes a `worker-request` trace
 *   (a span holding a generation), sent straight to the collector with pk:sk after the response (ctx.waitUntil).
 * Upstream and keys come from the env (LANGFUSE_BASE_URL, LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY, set by
 * run.mjs with --var), and DEMO_ORIGIN names the page origin the relay takes.
 */
import { withOutbox } from '../../src/worker';
import { createRelay, type Relay } from '../../src/relay';

interface Env {
  LANGFUSE_BASE_URL: string;
  LANGFUSE_PUBLIC_KEY: string;
  LANGFUSE_SECRET_KEY: string;
  DEMO_ORIGIN: string;
}

/** The dashboard page (another origin) calls /demo/ with fetch(): allow it. The relay answers its own CORS. */
const CORS = { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, POST, OPTIONS' };
/** Marks answers from this Worker, so run.mjs can tell it is ready (and not a dev-server error page). */
const READY_HEADER = { 'x-outbox-demo': 'worker' };

/**
 * One relay per isolate, so its dedup window and rate limiter live across requests. Created at the first request
 * because its upstream and allowed origin come from the env; a site with fixed values writes
 * `export default { fetch: createRelay({ upstream: { … }, allowOrigins: [ … ] }) }` at module scope.
 */
let relay: Relay | undefined;
function relayFor(env: Env): Relay {
  relay ??= createRelay({
    upstream: { baseUrl: env.LANGFUSE_BASE_URL, publicKey: env.LANGFUSE_PUBLIC_KEY, secretKey: env.LANGFUSE_SECRET_KEY },
    allowOrigins: [env.DEMO_ORIGIN],
    basePath: '/lf',
  });
  return relay;
}

/** The traced part: baseUrl and keys are read from env by withOutbox. */
const traced = withOutbox<Env>({ environment: 'demo-worker' }, {
  async fetch(request, _env, _ctx, outbox) {
    const url = new URL(request.url);
    if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: { ...CORS, ...READY_HEADER } });
    // The readiness probe of run.mjs: answered, not traced.
    if (url.pathname === '/healthz') return new Response('ok', { headers: { ...CORS, ...READY_HEADER } });
    const root = outbox.startObservation(
      'handle-request',
      { input: { method: request.method, path: url.pathname }, metadata: { userAgent: request.headers.get('user-agent') ?? '' } },
      { trace: { name: 'worker-request', tags: ['demo', 'worker'] } },
    );
    const prompt = `Summarise the request to ${url.pathname} in one line.`;
    const generation = root.startObservation(
      'summarise',
      { model: 'gpt-4o-mini', input: [{ role: 'user', content: prompt }] },
      { asType: 'generation' },
    );
    const summary = `${request.method} ${url.pathname}`;
    generation.update({ output: { role: 'assistant', content: summary }, usageDetails: { input: 14, output: 4 } });
    generation.end();
    root.update({ output: { summary } });
    root.end();
    return Response.json(
      { traceId: root.traceId, note: 'the spans are sent after this response, inside ctx.waitUntil' },
      { headers: { ...CORS, ...READY_HEADER } },
    );
  },
});

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === '/lf' || pathname.startsWith('/lf/')) return relayFor(env)(request, env, ctx);
    return traced.fetch!(request as Parameters<NonNullable<typeof traced.fetch>>[0], env, ctx) as Promise<Response>;
  },
} satisfies ExportedHandler<Env>;

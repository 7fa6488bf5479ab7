// `npm run demo`: the collector in Langfuse v4 mode (SQLite file in a data folder) with the Outbox relay mounted at
// /lf, serving the demo pages, the built bundles, the service worker and uPlot, on 127.0.0.1. The page sends
// through the relay (relay: '/lf', public key only); the relay forwards to the collector with the secret key, as it
// would to Langfuse. Port: --port N, else PORT, else 3318 (not 4318, the standard OTLP port). Data folder: --data DIR, else DATA_DIR, else
// <repo>/.data (git-ignored). Prints one URL; Ctrl-C (SIGINT/SIGTERM) stops it cleanly.
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startCollector } from './collector/server.mjs';
import { argValue, DEFAULT_PORT, explainListenError, portArg } from './collector/main.mjs';
import { createDemoLlmMount } from './llm/server.mjs';
// The built package (npm run demo builds it first), imported by its own name as an app would.
import { createRelay, toNodeListener } from 'outbox/relay';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * What the demo serves, first match wins: the pages, the built package under /dist/, uPlot under
 * /vendor/uplot/, and dist/ once more at the root so that /outbox-sw.js is served from `/` — a service worker's
 * scope can only cover pages at or below its own URL's folder, and the demo page lives at `/`.
 */
export const DEMO_STATIC_DIRS = [
  { prefix: '/dist/', dir: path.join(root, 'dist') },
  { prefix: '/vendor/uplot/', dir: path.join(root, 'node_modules/uplot/dist') },
  { prefix: '/', dir: path.join(root, 'demo/public') },
  { prefix: '/', dir: path.join(root, 'dist') },
];

/** The demo project's keys: the page holds the public one, the relay (and the demo Worker) both. */
export const DEMO_KEYS = { publicKey: 'pk-lf-demo', secretKey: 'sk-lf-demo' };
/** Where the relay is mounted on the demo's origin (the page's `relay: '/lf'`). */
export const RELAY_PREFIX = '/lf';

/**
 * Starts the demo: the collector answering as Langfuse v4 (only the demo keys), with the relay mounted at /lf
 * whose upstream is the collector itself and which takes pages of the demo's own origin only. The relay's
 * counters are served at GET /control/relay for the dashboard.
 * @param {{ port?: number, dataDir?: string }} [opts] port: default 3318 (0 picks a free one); dataDir: folder
 *   for demo.sqlite, default <repo>/.data
 * @returns {Promise<import('./collector/server.d.mts').Collector & { relay: import('outbox/relay').Relay }>}
 */
export async function startDemo({ port = DEFAULT_PORT, dataDir = path.join(root, '.data') } = {}) {
  mkdirSync(dataDir, { recursive: true });
  // The relay needs the collector's URL (its upstream and the page's origin), known once it listens.
  /** @type {import('outbox/relay').Relay | undefined} */
  let relay;
  /** @type {((req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void) | undefined} */
  let relayListener;
  const notReady = (/** @type {import('node:http').ServerResponse} */ res) => {
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
    res.end(JSON.stringify({ message: 'the relay is starting' }));
  };
  const collector = await startCollector({
    port,
    host: '127.0.0.1',
    dbPath: path.join(dataDir, 'demo.sqlite'),
    langfuse: 'v4',
    publicKeys: [DEMO_KEYS.publicKey],
    secretKeys: [DEMO_KEYS.secretKey],
    staticDirs: DEMO_STATIC_DIRS,
    mounts: [
      // The chat's OpenAI-compatible model server and the page's chat client (/llm/chat.js).
      { prefix: '/llm', listener: createDemoLlmMount() },
      { prefix: RELAY_PREFIX, listener: (req, res) => (relayListener ? relayListener(req, res) : notReady(res)) },
      {
        prefix: '/control/relay',
        listener: (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end(JSON.stringify(relay?.stats() ?? null));
        },
      },
    ],
  });
  relay = createRelay({
    upstream: { baseUrl: collector.url, ...DEMO_KEYS },
    allowOrigins: [collector.url],
    // While the collector fails, pages are told to come back in 2 s (default 5 s): recovery is quick to watch.
    retryAfterSeconds: 2,
    onError: (error) => console.error(`relay: ${error.message}`),
  });
  relayListener = /** @type {any} */ (toNodeListener(relay));
  return Object.assign(collector, { relay });
}

/**
 * Reads the port and data folder from argv and the environment; exits with 2 on an invalid port.
 * @param {string[]} argv
 * @returns {{ port: number, dataDir: string }}
 */
export function demoArgs(argv) {
  const port = portArg(argv, 'demo');
  const dataDir = path.resolve(argValue(argv, 'data') ?? process.env.DATA_DIR ?? path.join(root, '.data'));
  return { port, dataDir };
}

/**
 * Stops `close()` once on SIGINT/SIGTERM, then exits 0.
 * @param {() => Promise<unknown>} close
 */
export function stopOnSignals(close) {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, async () => {
      if (stopping) return;
      stopping = true;
      await close().catch(() => undefined);
      process.exit(0);
    });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = demoArgs(process.argv.slice(2));
  const collector = await startDemo(args).catch((err) => explainListenError(err, args.port, 'demo'));
  console.log(`Outbox demo: ${collector.url}/`);
  stopOnSignals(() => collector.close());
}

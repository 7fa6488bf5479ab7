// `npm run demo`: the collector (SQLite file in a data folder) serving the demo pages, the built bundles, the
// service worker and uPlot, on 127.0.0.1. Port: --port N, else PORT, else 4318. Data folder: --data DIR, else
// DATA_DIR, else <repo>/.data (git-ignored). Prints one URL; Ctrl-C (SIGINT/SIGTERM) stops it cleanly.
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startCollector } from './collector/server.mjs';
import { argValue } from './collector/main.mjs';

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

/**
 * Starts the demo collector.
 * @param {{ port?: number, dataDir?: string }} [opts] port: default 4318 (0 picks a free one); dataDir: folder
 *   for demo.sqlite, default <repo>/.data
 * @returns {Promise<import('./collector/server.d.mts').Collector>}
 */
export async function startDemo({ port = 4318, dataDir = path.join(root, '.data') } = {}) {
  mkdirSync(dataDir, { recursive: true });
  return startCollector({
    port,
    host: '127.0.0.1',
    dbPath: path.join(dataDir, 'demo.sqlite'),
    staticDirs: DEMO_STATIC_DIRS,
  });
}

/**
 * Reads the port and data folder from argv and the environment; exits with 2 on an invalid port.
 * @param {string[]} argv
 * @returns {{ port: number, dataDir: string }}
 */
export function demoArgs(argv) {
  const portText = argValue(argv, 'port') ?? process.env.PORT ?? '4318';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`demo: invalid port '${portText}'`);
    process.exit(2);
  }
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
  const collector = await startDemo(demoArgs(process.argv.slice(2)));
  console.log(`Outbox demo: ${collector.url}/`);
  stopOnSignals(() => collector.close());
}

// `npm run demo:worker`: the demo (collector in Langfuse v4 mode) plus the demo Worker under `wrangler dev --local`
// (offline: no Cloudflare account, no metrics, no `Request.cf` fetch). The Worker is the Outbox relay at /lf —
// the page sends through it instead of the relay mounted in Node — and a Worker traced with `outbox/worker` at
// /demo/ (one trace per request). Both deliver to the same collector, so the dashboard shows everything. Prints
// one URL: the dashboard, told where the Worker is (?worker=…) so it uses that relay and gets a "call the
// Worker" button.
// Options: --port N / PORT (collector, default 3318), --worker-port N / WORKER_PORT (default 8787),
// --data DIR / DATA_DIR (default <repo>/.data). Ctrl-C stops both.
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { startDemo, demoArgs, stopOnSignals, DEMO_KEYS } from '../main.mjs';
import { argValue } from '../collector/main.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
/** Longest wait for wrangler to answer, ms (its first start on a busy 2-core machine takes 10–30 s). */
const READY_TIMEOUT_MS = 120_000;

/** Bundles worker.ts (with src/worker.ts and its dependencies) into dist/worker.mjs, the `main` of wrangler.jsonc. */
export async function bundleWorker() {
  await build({
    entryPoints: [path.join(here, 'worker.ts')],
    outfile: path.join(here, 'dist/worker.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'browser'],
    external: ['cloudflare:*'],
    logLevel: 'warning',
  });
}

/**
 * Resolves once the Worker answers with its marker header and its relay answers a preflight from the page's
 * origin (204, that origin allowed); rejects when `exited` settles first or on timeout.
 * @param {string} url
 * @param {string} pageOrigin
 * @param {Promise<unknown>} exited
 */
async function waitForWorker(url, pageOrigin, exited) {
  let gone = false;
  exited.then(() => (gone = true));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let seen = 'no answer';
  while (Date.now() < deadline && !gone) {
    const res = await fetch(`${url}/healthz`).catch(() => null);
    if (res?.headers.get('x-outbox-demo') === 'worker') {
      const preflight = await fetch(`${url}/lf/api/public/otel/v1/traces`, {
        method: 'OPTIONS',
        headers: { origin: pageOrigin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      }).catch(() => null);
      if (preflight?.status === 204 && preflight.headers.get('access-control-allow-origin') === pageOrigin) return;
      seen = `the relay answered a preflight with ${preflight?.status ?? 'a network error'}`;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(gone ? 'wrangler exited' : `the Worker was not ready within ${READY_TIMEOUT_MS / 1000} s (${seen})`);
}

const argv = process.argv.slice(2);
const { port, dataDir } = demoArgs(argv);
const workerPort = Number(argValue(argv, 'worker-port') ?? process.env.WORKER_PORT ?? 8787);

const collector = await startDemo({ port, dataDir });
await bundleWorker();

const logFile = path.join(dataDir, 'wrangler.log');
const log = createWriteStream(logFile);
const wrangler = spawn(
  process.execPath,
  [
    path.join(root, 'node_modules/wrangler/bin/wrangler.js'),
    'dev',
    '--local',
    '--config', path.join(here, 'wrangler.jsonc'),
    '--ip', '127.0.0.1',
    '--port', String(workerPort),
    '--show-interactive-dev-session=false',
    '--var', `LANGFUSE_BASE_URL:${collector.url}`,
    '--var', `LANGFUSE_PUBLIC_KEY:${DEMO_KEYS.publicKey}`,
    '--var', `LANGFUSE_SECRET_KEY:${DEMO_KEYS.secretKey}`,
    '--var', `DEMO_ORIGIN:${collector.url}`,
  ],
  {
    cwd: here,
    // Offline: wrangler would otherwise fetch Request.cf data from workers.cloudflare.com and send metrics.
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_SEND_METRICS: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  },
);
wrangler.stdout.pipe(log);
wrangler.stderr.pipe(log);
const exited = new Promise((resolve) => wrangler.once('exit', resolve));

let stopping = false;
const stop = async () => {
  stopping = true;
  if (wrangler.exitCode === null) {
    wrangler.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (wrangler.exitCode === null) wrangler.kill('SIGKILL');
  }
  await collector.close();
};
stopOnSignals(stop);

const workerUrl = `http://127.0.0.1:${workerPort}`;
try {
  await waitForWorker(workerUrl, collector.url, exited);
} catch (err) {
  console.error(`demo:worker: ${/** @type {Error} */ (err).message}; wrangler's output (${logFile}):`);
  console.error(readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n'));
  await stop();
  process.exit(1);
}
exited.then(async (code) => {
  if (stopping) return;
  console.error(`demo:worker: wrangler exited (${code}); its output is in ${logFile}`);
  await collector.close();
  process.exit(1);
});
console.log(`Outbox demo: ${collector.url}/?worker=${workerUrl}`);

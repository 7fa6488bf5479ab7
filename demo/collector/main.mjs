// CLI of the collector (`npm run collector`): --port N (or env PORT, default 3318), --db PATH
// (default <repo>/.data/collector.sqlite), --langfuse v3|v4 (default v4: /ingestion answers as Langfuse v4 does),
// --accept-beacons (v4: take text/plain and ?pk= as a relay would). Serves its dashboard at /. Closes cleanly on
// SIGINT/SIGTERM. A busy port, or `npm run … --port N` without `--` (npm keeps the flag), get one line saying what
// to do.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCollector } from './server.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The demo's and the collector's default port. Not 4318, the standard OTLP/HTTP port, where a local OpenTelemetry
 * Collector or Jaeger may already listen.
 */
export const DEFAULT_PORT = 3318;

/**
 * The port from `--port N`, else PORT, else DEFAULT_PORT. Exits 2 with one line for an invalid port, and for
 * `npm run <script> --port N`: without `--` npm takes the flag for itself (npm_config_port) and the script never
 * sees it.
 * @param {string[]} argv
 * @param {string} command the name printed before the message
 * @returns {number}
 */
export function portArg(argv, command) {
  const given = argValue(argv, 'port');
  const npmKept = process.env.npm_config_port;
  if (given === undefined && npmKept !== undefined && npmKept !== '') {
    // `npm run x --port 5050`: npm sets npm_config_port=true and hands the script a bare `5050`.
    const value = npmKept !== 'true' ? npmKept : (argv.find((a) => /^\d+$/.test(a)) ?? 'N');
    const script = process.env.npm_lifecycle_event ?? command;
    console.error(`${command}: npm kept --port for itself; to pass it on, write: npm run ${script} -- --port ${value}`);
    process.exit(2);
  }
  const portText = given ?? process.env.PORT ?? String(DEFAULT_PORT);
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`${command}: invalid port '${portText}' (--port N or PORT: an integer from 0 to 65535)`);
    process.exit(2);
  }
  return port;
}

/**
 * A server that could not listen: a busy port gets one line saying what to do (exit 2); anything else is rethrown.
 * @param {unknown} err
 * @param {number} port
 * @param {string} command
 */
export function explainListenError(err, port, command) {
  if (/** @type {{ code?: string }} */ (err)?.code === 'EADDRINUSE') {
    const script = process.env.npm_lifecycle_event ?? command;
    console.error(`${command}: port ${port} is busy (another program listens on it); pick another: npm run ${script} -- --port ${port + 1}`);
    process.exit(2);
  }
  throw err;
}

/**
 * Reads `--name value` or `--name=value` from argv.
 * @param {string[]} argv
 * @param {string} name
 * @returns {string | undefined}
 */
export function argValue(argv, name) {
  const flag = `--${name}`;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === flag) return argv[i + 1];
    if (argv[i].startsWith(`${flag}=`)) return argv[i].slice(flag.length + 1);
  }
  return undefined;
}

/**
 * Starts the collector from command-line arguments and the environment.
 * @param {string[]} argv
 */
export async function main(argv = process.argv.slice(2)) {
  const port = portArg(argv, 'collector');
  const dbPath = path.resolve(argValue(argv, 'db') ?? path.join(repoRoot, '.data', 'collector.sqlite'));
  fs.mkdirSync(path.dirname(dbPath), { recursive: true });

  const langfuse = argValue(argv, 'langfuse') ?? 'v4';
  if (langfuse !== 'v3' && langfuse !== 'v4') {
    console.error(`collector: --langfuse must be v3 or v4, got '${langfuse}'`);
    process.exit(2);
  }
  const acceptBeacons = argv.includes('--accept-beacons');

  const staticDirs = [{ prefix: '/', dir: path.join(path.dirname(fileURLToPath(import.meta.url)), 'dashboard') }];
  const collector = await startCollector({ port, host: '127.0.0.1', dbPath, langfuse, acceptBeacons, staticDirs }).catch((err) =>
    explainListenError(err, port, 'collector'),
  );
  console.log(
    `collector (Langfuse ${langfuse}${acceptBeacons ? ', beacons accepted' : ''}): dashboard ${collector.url}/, ingestion ${collector.endpoint}, OTLP ${collector.otlpEndpoint}`,
  );

  const stop = () => {
    collector.close().then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(`collector: ${err?.message ?? err}`);
    process.exit(1);
  });
}

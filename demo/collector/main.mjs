// CLI of the collector (`npm run collector`): --port N (or env PORT, default 4318), --db PATH
// (default <repo>/.data/collector.sqlite), --langfuse v3|v4 (default v3; v4 answers /ingestion as Langfuse v4),
// --accept-beacons (v4: take text/plain and ?pk= as a relay would). Closes cleanly on SIGINT/SIGTERM.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCollector } from './server.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

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
  const portText = argValue(argv, 'port') ?? process.env.PORT ?? '4318';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`collector: invalid port '${portText}'`);
    process.exit(2);
  }
  const dbPath = path.resolve(argValue(argv, 'db') ?? path.join(repoRoot, '.data', 'collector.sqlite'));
  fs.mkdirSync(path.dirname(dbPath), { recursive: true });

  const langfuse = argValue(argv, 'langfuse') ?? 'v3';
  if (langfuse !== 'v3' && langfuse !== 'v4') {
    console.error(`collector: --langfuse must be v3 or v4, got '${langfuse}'`);
    process.exit(2);
  }
  const acceptBeacons = argv.includes('--accept-beacons');

  const collector = await startCollector({ port, host: '127.0.0.1', dbPath, langfuse, acceptBeacons });
  console.log(`collector (Langfuse ${langfuse}${acceptBeacons ? ', beacons accepted' : ''}) listening on ${collector.endpoint} and ${collector.otlpEndpoint}`);

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

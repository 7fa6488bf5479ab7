// `npm run demo`: the collector (SQLite file under .data/) serving the demo pages and the built bundles.
// Port: --port N, else PORT, else 4318. Ctrl-C stops it.
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startCollector } from './collector/server.mjs';
import { argValue } from './collector/main.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const port = Number(argValue(process.argv.slice(2), 'port') ?? process.env.PORT ?? 4318);
const dataDir = path.join(root, '.data');
mkdirSync(dataDir, { recursive: true });

const collector = await startCollector({
  port,
  dbPath: path.join(dataDir, 'demo.sqlite'),
  staticDirs: [
    { prefix: '/dist/', dir: path.join(root, 'dist') },
    { prefix: '/', dir: path.join(root, 'demo/public') },
  ],
});
console.log(`Outbox demo: ${collector.url}/`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    await collector.close();
    process.exit(0);
  });
}

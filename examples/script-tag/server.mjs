// Serves the page, outbox.global.js from the installed package, and the relay at /lf (which holds the secret key).
// Reads LANGFUSE_BASE_URL, LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY and PORT (default 3000).   node server.mjs
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createRelay, toNodeListener } from 'outbox/relay';

const relay = toNodeListener(createRelay({})); // upstream from LANGFUSE_* in process.env
const dist = path.join(path.dirname(createRequire(import.meta.url).resolve('outbox/package.json')), 'dist');
const files = {
  '/': [new URL('./index.html', import.meta.url), 'text/html; charset=utf-8'],
  '/outbox.global.js': [path.join(dist, 'outbox.global.js'), 'text/javascript'],
};

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/lf' || url.pathname.startsWith('/lf/')) return relay(req, res);
  const file = files[url.pathname];
  if (!file) return res.writeHead(404).end();
  const body = (await readFile(file[0], 'utf8')).replace('%LANGFUSE_PUBLIC_KEY%', process.env.LANGFUSE_PUBLIC_KEY ?? '');
  res.writeHead(200, { 'Content-Type': file[1] }).end(body);
});
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/`);
});

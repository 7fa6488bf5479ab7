// The app's server: the page, its bundle, the service worker (from the site's root, so it controls every page),
// and the relay at /lf. Reads LANGFUSE_BASE_URL, LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY and PORT (default 3000).
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { createRelay, toNodeListener } from 'outbox/relay';

const relay = toNodeListener(createRelay({}));
const publicDir = new URL('../public/', import.meta.url);
const files: Record<string, [string, string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/page.js': ['page.js', 'text/javascript'],
  '/sw.js': ['sw.js', 'text/javascript'],
};

const server = http.createServer(async (req, res) => {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (path === '/lf' || path.startsWith('/lf/')) return relay(req, res);
  const file = files[path];
  if (!file) return void res.writeHead(404).end();
  const body = (await readFile(new URL(file[0], publicDir), 'utf8')).replace('%LANGFUSE_PUBLIC_KEY%', process.env.LANGFUSE_PUBLIC_KEY ?? '');
  res.writeHead(200, { 'Content-Type': file[1] }).end(body);
});
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') console.log(`listening on http://127.0.0.1:${address.port}/`);
});

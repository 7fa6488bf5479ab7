// The app's server: the page and its bundle, and the relay at /lf, which holds the secret key and forwards to
// Langfuse. Reads LANGFUSE_BASE_URL, LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY and PORT (default 3000).
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { createRelay, toNodeListener } from 'outbox/relay';

const relay = toNodeListener(createRelay({})); // upstream from LANGFUSE_* in process.env; same-origin pages only
const publicDir = new URL('../public/', import.meta.url);

const server = http.createServer(async (req, res) => {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (path === '/lf' || path.startsWith('/lf/')) return relay(req, res);
  if (path === '/' || path === '/page.js') {
    const file = path === '/' ? 'index.html' : 'page.js';
    let body = await readFile(new URL(file, publicDir), 'utf8');
    if (file === 'index.html') body = body.replace('%LANGFUSE_PUBLIC_KEY%', process.env.LANGFUSE_PUBLIC_KEY ?? '');
    res.writeHead(200, { 'Content-Type': file === 'page.js' ? 'text/javascript' : 'text/html; charset=utf-8' });
    return res.end(body);
  }
  res.writeHead(404).end();
});
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') console.log(`listening on http://127.0.0.1:${address.port}/`);
});

// Serving static files (demo pages, built bundles, the service worker) under URL prefixes.
import fs from 'node:fs';
import path from 'node:path';

/** Content types by file extension. */
export const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
};

/**
 * Serves a GET/HEAD request from the first `{ prefix, dir }` whose prefix matches and that has the file
 * (a directory serves its index.html), with `Cache-Control: no-store`. Paths escaping `dir` are refused.
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {string} pathname the URL's pathname (still percent-encoded)
 * @param {{ prefix: string, dir: string }[]} staticDirs
 * @returns {Promise<boolean>} whether an answer was sent
 */
export async function serveStatic(req, res, pathname, staticDirs) {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  for (const { prefix, dir } of staticDirs) {
    if (prefix.endsWith('/') && pathname === prefix.slice(0, -1) && prefix !== '/') {
      res.writeHead(301, { location: prefix, 'cache-control': 'no-store' });
      res.end();
      return true;
    }
    if (!pathname.startsWith(prefix)) continue;
    let rest;
    try {
      rest = decodeURIComponent(pathname.slice(prefix.length));
    } catch {
      return false;
    }
    if (rest.includes('\0')) return false;
    const root = path.resolve(dir);
    let file = path.resolve(root, `.${path.posix.sep}${rest}`);
    if (file !== root && !file.startsWith(root + path.sep)) return false;
    let stat = await fs.promises.stat(file).catch(() => null);
    if (stat?.isDirectory()) {
      file = path.join(file, 'index.html');
      stat = await fs.promises.stat(file).catch(() => null);
    }
    if (!stat?.isFile()) continue;
    const type = CONTENT_TYPES[/** @type {keyof typeof CONTENT_TYPES} */ (path.extname(file).toLowerCase())] ?? 'application/octet-stream';
    res.writeHead(200, {
      'content-type': type,
      'content-length': String(stat.size),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    await new Promise((resolve) => {
      const stream = fs.createReadStream(file);
      stream.once('error', () => {
        res.destroy();
        resolve(undefined);
      });
      stream.once('end', () => resolve(undefined));
      res.once('close', () => {
        stream.destroy();
        resolve(undefined);
      });
      stream.pipe(res);
    });
    return true;
  }
  return false;
}

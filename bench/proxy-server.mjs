// Child process of the relay benchmark: the collector (Langfuse v4 mode), or one forwarder in front of it, on
// 127.0.0.1 in a process of its own, so no two of them (nor the load generator) share an event loop. Usage:
//   node bench/proxy-server.mjs collector
//   node bench/proxy-server.mjs <relay|plain> <upstream base URL>
// Prints `{"port":N}` once listening; ends when its parent closes stdin.
import http from 'node:http';

const [kind, upstream = 'http://127.0.0.1'] = process.argv.slice(2);
const target = new URL(upstream);

/**
 * The reference: a plain forwarding proxy in ~30 lines, as one writes it with node:http. Method, path, headers and
 * body go upstream unchanged over a keep-alive agent; status, headers and body come back unchanged.
 */
function plainProxy() {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  return (req, res) => {
    const up = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host }, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end('{"message":"upstream unreachable"}');
    });
    req.pipe(up);
  };
}

async function relayListener() {
  const { createRelay, toNodeListener } = await import('../dist/relay.js');
  const relay = createRelay({
    upstream: { baseUrl: upstream, publicKey: 'pk-bench', secretKey: 'sk-bench' },
    allowOrigins: ['http://app.bench'],
    rateLimit: false, // one client address sends everything here; the default bucket would answer 429
  });
  return toNodeListener(relay);
}

if (kind === 'collector') {
  const { startCollector } = await import('../demo/collector/server.mjs');
  const collector = await startCollector({ langfuse: 'v4' });
  console.log(JSON.stringify({ port: collector.port }));
} else {
  const server = http.createServer(kind === 'relay' ? await relayListener() : plainProxy());
  server.keepAliveTimeout = 10_000;
  server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
}
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

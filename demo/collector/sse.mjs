// The Server-Sent Events stream of stats for the live dashboard.

/**
 * Opens an SSE stream on `res`: an `event: stats` message with the stats at once, then on every change (at
 * most one message per `minIntervalMs`, skipped when nothing changed), and a heartbeat comment every
 * `heartbeatMs`. Cleans up when the client disconnects.
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {{ snapshot: () => unknown, subscribe: (fn: () => void) => () => void, headers?: Record<string, string>,
 *   minIntervalMs?: number, heartbeatMs?: number }} opts
 * @returns {() => void} closes the stream
 */
export function openStatsStream(req, res, { snapshot, subscribe, headers = {}, minIntervalMs = 100, heartbeatMs = 15_000 }) {
  res.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write('retry: 1000\n\n');

  let last = '';
  let lastAt = 0;
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;
  let open = true;

  const send = () => {
    timer = null;
    if (!open) return;
    const json = JSON.stringify(snapshot());
    if (json === last) return;
    last = json;
    lastAt = Date.now();
    res.write(`event: stats\ndata: ${json}\n\n`);
  };
  const onChange = () => {
    if (!open || timer) return;
    timer = setTimeout(send, Math.max(0, lastAt + minIntervalMs - Date.now()));
  };

  const unsubscribe = subscribe(onChange);
  const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs);
  heartbeat.unref?.();
  const close = () => {
    if (!open) return;
    open = false;
    unsubscribe();
    clearInterval(heartbeat);
    if (timer) clearTimeout(timer);
    if (!res.writableEnded) res.end();
  };
  req.once('close', close);
  res.once('close', close);
  send();
  return close;
}

// A relay (a build's `outbox/relay`, e.g. dist/relay.js) as a node:http listener, behind a counter of what arrives
// before the relay sees it. Used where duplicates must be counted before any dedup while the clients talk to a relay
// (the chaos soak, scripts/soak.mjs; the receipts specs): mount `listener` on the collector (`mounts`).
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

/**
 * The relay made by `options(upstream())` on first use (so `upstream` may be the collector it is mounted on), behind a listener that counts what arrives
 * before the relay sees it: for each ingestion request, the ids the relay's answer says it took (2xx: all of them but
 * its `errors`), each arrival with when, from where (the worker or a page) and the answer's status (0 when the answer
 * could not be written: the requester was gone). An id taken twice is a duplicate sent by the client, whether or not
 * the relay's dedup then kept it from the collector.
 */
export async function relayIngress({ dist, options, upstream }) {
  const { createRelay, toNodeListener } = await import(path.join(dist, 'relay.js'));
  /** @type {Map<string, { at: number, referer: string | null, request: { status: number, count: number } }[]>} */
  const arrivals = new Map();
  let relay;
  let forward;
  const queries = { asked: 0, ids: 0 };
  const listener = (req, res) => {
    if (!forward) {
      relay = createRelay(options(upstream()));
      forward = toNodeListener(relay);
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('error', () => undefined);
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const at = Date.now();
      let ids = [];
      const isIngestion = req.method === 'POST' && (req.url ?? '').split('?')[0].endsWith('/api/public/ingestion');
      try {
        const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
        if (isIngestion) ids = JSON.parse(text).batch.map((e) => String(e?.id));
        else if ((req.url ?? '').includes('/outbox/receipts')) (queries.asked++, (queries.ids += (JSON.parse(text).events ?? []).length));
      } catch {
        /* not a batch: nothing to count */
      }
      const out = [];
      const write = res.write.bind(res);
      const end = res.end.bind(res);
      res.write = (c, ...a) => (c && typeof c !== 'function' && out.push(Buffer.from(c)), write(c, ...a));
      res.end = (c, ...a) => (c && typeof c !== 'function' && out.push(Buffer.from(c)), end(c, ...a));
      res.on('close', () => {
        if (ids.length === 0 || res.statusCode < 200 || res.statusCode > 299) return;
        let taken = ids;
        try {
          const body = JSON.parse(Buffer.concat(out).toString('utf8'));
          if (Array.isArray(body?.successes)) taken = body.successes.map((s) => String(s.id));
        } catch {
          /* a 2xx without a body: all taken */
        }
        const request = { status: res.writableFinished ? res.statusCode : 0, count: ids.length };
        for (const id of taken) {
          const one = { at, referer: req.headers.referer ?? null, request };
          const list = arrivals.get(id);
          if (list) list.push(one);
          else arrivals.set(id, [one]);
        }
      });
      const again = Object.assign(
        {
          async *[Symbol.asyncIterator]() {
            yield raw;
          },
        },
        { method: req.method, url: req.url, headers: req.headers, rawHeaders: req.rawHeaders, socket: req.socket, complete: true, resume: () => undefined, destroy: () => req.destroy() },
      );
      forward(again, res);
    });
  };
  return {
    listener,
    arrivals,
    queries,
    stats: () => relay?.stats() ?? {},
    /** Arrivals of `id` the relay answered as taken (0: never taken). */
    count: (id) => arrivals.get(id)?.length ?? 0,
    reset() {
      arrivals.clear();
      queries.asked = 0;
      queries.ids = 0;
    },
  };
}


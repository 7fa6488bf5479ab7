// Observations: µs per observation (start + update + end of one generation, bench/observation-work.mjs) and bytes
// per span on the wire, against a collector in Langfuse v4 mode.
// - Page (real Chromium, main thread): Outbox with IndexedDB sending through an Outbox relay (a page cannot hold
//   the secret key the OTLP route needs), next to @opentelemetry/sdk-trace-web with its BatchSpanProcessor and OTLP
//   exporter sending to the collector directly with Basic auth (esbuild bundle). Blocking: per chunk of 100,
//   performance.now() until the next macrotask; main thread until stored: CDP TaskDuration and ThreadTime.
// - Node: dist/node.js next to @langfuse/tracing + @langfuse/otel's LangfuseSpanProcessor on a NodeTracerProvider,
//   each in a child process of its own (bench/observations-node.mjs) so that its CPU time (process.cpuUsage) is not
//   the collector's.
// Bytes per span: the collector's request log (raw body bytes / spans) for the OTLP route; for the page's Outbox
// that is what the relay forwarded, and the page → relay bytes (Content-Length at the relay) are given beside it.
import http from 'node:http';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync } from 'node:fs';
import { build } from 'esbuild';
import { mainThread, openPage } from './browser.mjs';
import { summarize } from './stats.mjs';

const run = promisify(execFile);
const BASIC = `Basic ${Buffer.from('pk-bench:sk-bench').toString('base64')}`;

/** Bundles the OpenTelemetry web comparison into bench/results/build/otel-web.js; returns its URL path and size. */
async function bundleOtelWeb(benchDir) {
  const outDir = path.join(benchDir, 'results', 'build');
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    entryPoints: [path.join(benchDir, 'otel-web-entry.mjs')],
    outfile: path.join(outDir, 'otel-web.js'),
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    metafile: true,
    logLevel: 'error',
  });
  const bytes = Object.values(result.metafile.outputs)[0].bytes;
  return { urlPath: '/bench/results/build/otel-web.js', minBytes: bytes };
}

/** An Outbox relay on its own 127.0.0.1 port in front of `collector`, taking the page's origin; counts bytes in. */
async function startRelay(dist, collector) {
  const { createRelay, toNodeListener } = await import(path.join(dist, 'relay.js'));
  const relay = createRelay({
    upstream: { baseUrl: collector.url, publicKey: 'pk-bench', secretKey: 'sk-bench' },
    allowOrigins: [collector.url],
    rateLimit: false,
  });
  const listener = toNodeListener(relay);
  const counted = { bytes: 0, requests: 0 };
  const server = http.createServer((req, res) => {
    if (req.method === 'POST') {
      counted.requests++;
      counted.bytes += Number(req.headers['content-length'] ?? 0);
    }
    listener(req, res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    counted,
    close: () => new Promise((resolve) => server.close(resolve).closeAllConnections()),
  };
}

/** In the page: n observations in chunks of 100 with `window.__work`, then flush; blocking per chunk. */
async function observeInPage(page, n) {
  return page.evaluate(async (n) => {
    const channel = new MessageChannel();
    const macrotask = () => new Promise((resolve) => {
      channel.port1.onmessage = resolve;
      channel.port2.postMessage(0);
    });
    await macrotask();
    let blockingMs = 0;
    const t0 = performance.now();
    for (let i = 0; i < n; i += 100) {
      const a = performance.now();
      for (let j = i; j < Math.min(n, i + 100); j++) window.__work(j);
      await macrotask();
      blockingMs += performance.now() - a;
    }
    await window.__flush();
    return { blockingMs, flushedMs: performance.now() - t0 };
  }, n);
}

async function measurePage(browser, collector, relay, otelWeb, { n, runs }) {
  const { page, cdp, errors, context } = await openPage(browser, collector);
  try {
    await page.evaluate(
      async ({ relayUrl, otelPath, otlpUrl, basic, n }) => {
        const { observationWork, otelWork, activeWork, otelActiveWork, makeObserveWork, makeOtelObserveWork } = await import('/bench/observation-work.mjs');
        const { createOtelWeb } = await import(otelPath);
        // IndexedDB, defaults; past the default queue bounds (10 000 records, 2 048 spans) both queues hold a whole
        // run, so BENCH_OBSERVATIONS=20000 measures blocking rather than drops (and waits for no missing span).
        const outbox = window.__ob.createOutbox({ relay: relayUrl, publicKey: 'pk-bench', ...(n > 10_000 && { maxQueueEvents: n }) });
        const otel = createOtelWeb({ url: otlpUrl, headers: { Authorization: basic }, ...(n > 2048 && { maxQueueSize: n }) });
        const store = window.__ob.durableStorageOf?.(outbox);
        const observed = makeObserveWork(outbox.observe);
        const otelObserved = makeOtelObserveWork(otel.tracer);
        window.__clients = {
          outbox: { work: (i) => observationWork(outbox.startObservation, i), flush: outbox.flush, store },
          'otel-web': { work: (i) => otelWork(otel.tracer, i), flush: otel.flush },
          'outbox-active': { work: (i) => activeWork(outbox.startActiveObservation, i), flush: outbox.flush, store },
          'otel-web-active': { work: (i) => otelActiveWork(otel.tracer, i), flush: otel.flush },
          'outbox-observe': { work: observed, flush: outbox.flush, store },
          'otel-web-observe': { work: otelObserved, flush: otel.flush },
        };
      },
      { relayUrl: relay.url, otelPath: otelWeb.urlPath, otlpUrl: collector.otlpEndpoint, basic: BASIC, n },
    );
    const per = { outbox: [], 'otel-web': [], 'outbox-active': [], 'otel-web-active': [], 'outbox-observe': [], 'otel-web-observe': [] };
    const pairs = [['outbox', 'otel-web'], ['outbox-active', 'otel-web-active'], ['outbox-observe', 'otel-web-observe']];
    for (let r = 0; r <= runs; r++) {
      for (const name of pairs.flatMap((pair) => (r % 2 ? [...pair].reverse() : pair))) {
        await page.evaluate((name) => {
          const c = window.__clients[name];
          window.__work = c.work;
          window.__flush = async () => {
            await c.flush();
            if (c.store) await c.store.flushWrites();
          };
        }, name);
        collector.reset();
        const relay0 = { ...relay.counted };
        const m0 = await mainThread(cdp);
        const t = await observeInPage(page, n);
        const stored = await collector.waitFor((c) => c.stats().observationsStored >= n && c.stats().observationsStored, 60_000).catch(() => collector.stats().observationsStored);
        const m1 = await mainThread(cdp);
        if (r === 0) continue; // warm-up
        const log = collector.requests().filter((x) => x.path === 'otlp');
        const spans = log.reduce((a, x) => a + x.count, 0);
        per[name].push({
          blockingUs: (t.blockingMs * 1000) / n,
          taskUs: ((m1.task - m0.task) * 1000) / n,
          cpuUs: ((m1.cpu - m0.cpu) * 1000) / n,
          flushedMs: t.flushedMs,
          stored,
          requests: log.length,
          bytesPerSpan: log.reduce((a, x) => a + x.bytes, 0) / Math.max(1, spans),
          pageBytesPerSpan: name.startsWith('outbox') ? (relay.counted.bytes - relay0.bytes) / n : undefined,
          encodings: [...new Set(log.map((x) => x.contentEncoding))],
        });
      }
    }
    return { per, pageErrors: errors };
  } finally {
    await context.close();
  }
}

async function measureNode(benchDir, collector, client, { n, runs, kind }) {
  const { stdout } = await run(process.execPath, [path.join(benchDir, 'observations-node.mjs'), client, collector.url, String(n), String(runs), kind], {
    // Past the default queue bound (2048 spans) Langfuse's BatchSpanProcessor holds a whole run, as Outbox's does.
    env: { ...process.env, ...(n > 2048 && { OTEL_BSP_MAX_QUEUE_SIZE: String(n) }) },
    timeout: 300_000,
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').pop());
}

/**
 * @param {import('@playwright/test').Browser} browser
 * @param {import('../demo/collector/server.mjs').Collector} collector in `langfuse: 'v4'` mode, serving /bench/ and /dist/
 */
export async function measureObservations(browser, collector, { benchDir, dist, n = 2000, runs = 5 }) {
  const otelWeb = await bundleOtelWeb(benchDir);
  const relay = await startRelay(dist, collector);
  const out = { observations: n, otelWebBundleMinBytes: otelWeb.minBytes };
  try {
    const page = await measurePage(browser, collector, relay, otelWeb, { n, runs });
    out.pageErrors = page.pageErrors;
    for (const [name, list] of Object.entries(page.per)) {
      out[`page-${name}`] = {
        blockingUsPerObservation: summarize(list.map((x) => x.blockingUs)),
        mainThreadTaskUsPerObservation: summarize(list.map((x) => x.taskUs)),
        mainThreadCpuUsPerObservation: summarize(list.map((x) => x.cpuUs)),
        stored: summarize(list.map((x) => x.stored)),
        requests: summarize(list.map((x) => x.requests)),
        bytesPerSpan: summarize(list.map((x) => x.bytesPerSpan)),
        pageToRelayBytesPerSpan: name.startsWith('outbox') ? summarize(list.map((x) => x.pageBytesPerSpan)) : undefined,
        encodings: list[0]?.encodings,
      };
    }
  } finally {
    await relay.close();
  }
  for (const [kind, suffix] of [['plain', ''], ['active', '-active'], ['observe', '-observe']]) for (const client of ['outbox', 'langfuse']) {
    collector.reset();
    const list = await measureNode(benchDir, collector, client, { n, runs, kind }).catch((error) => ({ error: String(error?.stderr || error).slice(0, 2000) }));
    if (list.error) {
      out[`node-${client}${suffix}`] = list;
      continue;
    }
    out[`node-${client}${suffix}`] = {
      blockingUsPerObservation: summarize(list.map((x) => x.blockingUsPerObservation)),
      blockingCpuUsPerObservation: summarize(list.map((x) => x.blockingCpuUsPerObservation)),
      cpuUsPerObservation: summarize(list.map((x) => x.cpuUsPerObservation)),
      deliveredMs: summarize(list.map((x) => x.deliveredMs)),
      stored: summarize(list.map((x) => x.stored)),
      requests: summarize(list.map((x) => x.requests)),
      bytesPerSpan: summarize(list.map((x) => x.bytes / Math.max(1, x.spans))),
      encodings: list[0]?.encodings,
    };
  }
  for (const client of ['outbox', 'langfuse']) {
    const { stdout } = await run(process.execPath, [path.join(benchDir, 'observations-cpu.mjs'), client, String(runs)], { timeout: 300_000, maxBuffer: 1 << 20 }).catch((error) => ({ stdout: JSON.stringify({ error: String(error).slice(0, 500) }) }));
    const per = JSON.parse(stdout.trim().split('\n').pop());
    out[`cpu-${client}`] = per.error ? per : Object.fromEntries(Object.entries(per).map(([kind, list]) => [kind, summarize(list)]));
  }
  return out;
}

// Child process of the observations benchmark: one client in a Node process of its own, so its CPU time is its
// own (the collector runs in the parent). Usage: node bench/observations-node.mjs <outbox|langfuse> <collector
// url> <observations per run> <runs>. Prints one JSON line: per run, blocking µs per observation (wall and process
// CPU), process CPU µs per observation and time until the collector stored them all, spans and bytes from the
// collector's request log.
import { performance } from 'node:perf_hooks';
import { activeWork, makeObserveWork, observationWork } from './observation-work.mjs';

// kind: 'plain' (startObservation + update + end), 'active' (startActiveObservation), 'observe' (an observe()d call).
const [client, url, nArg, runsArg, kind = 'plain'] = process.argv.slice(2);
const n = Number(nArg);
const runs = Number(runsArg);
const chunk = 100;
const auth = { publicKey: 'pk-bench', secretKey: 'sk-bench' };

const control = async (path, init) => {
  const res = await fetch(`${url}/control/${path}`, init);
  return res.status === 204 ? null : res.json();
};
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** @returns {Promise<{ api: object, flush: () => Promise<void>, close: () => Promise<void> }>} */
async function open() {
  if (client === 'outbox') {
    const { createOutbox } = await import('../dist/node.js');
    const outbox = createOutbox({ baseUrl: url, ...auth, ...(n > 10_000 && { maxQueueEvents: n }) }); // a run fits the queue
    return { api: outbox, flush: outbox.flush, close: outbox.shutdown };
  }
  const { NodeTracerProvider } = await import('@opentelemetry/sdk-trace-node');
  const { LangfuseSpanProcessor } = await import('@langfuse/otel');
  const tracing = await import('@langfuse/tracing');
  // Its defaults: batched export (queue bound: OTEL_BSP_MAX_QUEUE_SIZE, which the parent raises to n past 2048).
  const processor = new LangfuseSpanProcessor({ baseUrl: url, ...auth });
  const provider = new NodeTracerProvider({ spanProcessors: [processor] });
  provider.register(); // AsyncLocalStorage context, as an app using startActiveObservation sets up
  tracing.setLangfuseTracerProvider(provider);
  return { api: tracing, flush: () => processor.forceFlush(), close: () => provider.shutdown() };
}

const c = await open();
const work =
  kind === 'active'
    ? (i) => activeWork(c.api.startActiveObservation, i)
    : kind === 'observe'
      ? makeObserveWork(c.api.observe)
      : (i) => observationWork(c.api.startObservation, i);
const out = [];
for (let r = 0; r <= runs; r++) {
  await control('reset', { method: 'POST' });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let blockingMs = 0;
  let blockingCpuUs = 0;
  for (let i = 0; i < n; i += chunk) {
    const a = performance.now();
    const cpuA = process.cpuUsage();
    for (let j = i; j < Math.min(n, i + chunk); j++) work(j);
    await nextTurn(); // the microtasks the calls queued run before it
    const cpuB = process.cpuUsage(cpuA);
    blockingCpuUs += cpuB.user + cpuB.system;
    blockingMs += performance.now() - a;
  }
  await c.flush();
  let stats;
  const deadline = performance.now() + 60_000;
  while ((stats = await control('stats')).observationsStored < n && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const deliveredMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const log = (await control('requests')).requests.filter((x) => x.path === 'otlp');
  if (r === 0) continue; // warm-up
  out.push({
    blockingUsPerObservation: (blockingMs * 1000) / n,
    blockingCpuUsPerObservation: blockingCpuUs / n,
    cpuUsPerObservation: (cpu.user + cpu.system) / n,
    deliveredMs,
    stored: stats.observationsStored,
    requests: log.length,
    spans: log.reduce((a, x) => a + x.count, 0),
    bytes: log.reduce((a, x) => a + x.bytes, 0),
    encodings: [...new Set(log.map((x) => x.contentEncoding))],
  });
}
await c.close();
console.log(JSON.stringify(out));

// Child process of the observations benchmark: the CPU an observation costs its caller's process when nothing is
// sent (no flush, no export: Outbox with flushAt/maxBatchEvents above the run, LangfuseSpanProcessor with a flushAt
// above it), so the tracer's own path is measured apart from starting requests. Usage:
// node bench/observations-cpu.mjs <outbox|langfuse> <runs>. Prints one JSON line: per kind (plain, active, observe),
// process CPU µs per observation for each run (2 000 observations in chunks of 100, each chunk then a macrotask).
import { activeWork, makeObserveWork, observationWork } from './observation-work.mjs';

const [client, runsArg] = process.argv.slice(2);
const runs = Number(runsArg);
const n = 2000;
let api;
if (client === 'outbox') {
  const { createOutbox } = await import('../dist/node.js');
  api = createOutbox({ baseUrl: 'http://127.0.0.1:9', publicKey: 'pk', secretKey: 'sk', flushAt: 10_000, maxBatchEvents: 10_000, flushInterval: 3600, maxQueueEvents: 10_000_000 });
} else {
  const { NodeTracerProvider } = await import('@opentelemetry/sdk-trace-node');
  const { LangfuseSpanProcessor } = await import('@langfuse/otel');
  api = await import('@langfuse/tracing');
  const processor = new LangfuseSpanProcessor({ baseUrl: 'http://127.0.0.1:9', publicKey: 'pk', secretKey: 'sk', flushAt: 1_000_000, flushInterval: 3600 });
  const provider = new NodeTracerProvider({ spanProcessors: [processor] });
  provider.register();
  api.setLangfuseTracerProvider(provider);
}
const kinds = {
  plain: (i) => observationWork(api.startObservation, i),
  active: (i) => activeWork(api.startActiveObservation, i),
  observe: makeObserveWork(api.observe),
};
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const out = { plain: [], active: [], observe: [] };
for (let r = 0; r <= runs; r++) {
  for (const kind of Object.keys(kinds)) {
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < n; i += 100) {
      for (let j = i; j < i + 100; j++) kinds[kind](j);
      await nextTurn();
    }
    const cpu = process.cpuUsage(cpu0);
    if (r > 0) out[kind].push((cpu.user + cpu.system) / n); // run 0 warms up
  }
}
console.log(JSON.stringify(out));
process.exit(0);

// `node bench/otel.mjs`: OutboxSpanProcessor and @langfuse/otel's LangfuseSpanProcessor side by side in one Node
// process, each against its own collector (in this process too, so both pay for its SQLite writes alike):
// throughput (spans/s, µs per span for start + end + export until the collector has stored it), a burst of spans
// ended in one task, and a 10 s outage (spans lost; whether forceFlush rejected). Prints a table; ratios are
// Outbox against the reference measured in the same run. Not a test: nothing passes or fails on timing.
// Environment: BENCH_OTEL_SPANS (spans per throughput run, default 5000), BENCH_RUNS (rounds, default 3),
// BENCH_OTEL_OUTAGE_MS (default 10000). Exports measureOtel() for bench/run.mjs.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LangfuseSpanProcessor } from '@langfuse/otel';
import { setLangfuseTracerProvider, startObservation } from '@langfuse/tracing';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { startCollector } from '../demo/collector/server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const keys = { publicKey: 'pk-lf-bench', secretKey: 'sk-lf-bench' };
const log = (...a) => console.error('[bench:otel]', ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function loadOutbox() {
  const file = path.join(root, 'dist/otel.js');
  if (!existsSync(file)) execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs'), '--no-types'], { cwd: root, stdio: 'inherit' });
  return import(pathToFileURL(file).href);
}

/**
 * Ends `count` observations like an app does (span with input and output), yielding to the loop every `chunk`.
 * Returns the milliseconds spent in the synchronous parts (start + update + end, processor hooks included).
 */
async function makeSpans(provider, prefix, count, chunk) {
  setLangfuseTracerProvider(provider);
  let syncMs = 0;
  let t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const o = startObservation(`${prefix}-${i}`, { input: { question: 'How many spans?', i } });
    o.update({ output: { answer: 'all of them', i } });
    o.end();
    if (chunk && (i + 1) % chunk === 0) {
      syncMs += performance.now() - t0;
      await new Promise((r) => setImmediate(r));
      t0 = performance.now();
    }
  }
  return syncMs + (performance.now() - t0);
}

/** Waits until `collector` stores `count` observations or `ms` pass; returns how many it has. */
async function stored(collector, count, ms) {
  const deadline = Date.now() + ms;
  while (collector.stats().observationsStored < count && Date.now() < deadline) await sleep(10);
  return collector.stats().observationsStored;
}

/** One throughput run: start + end + export of `count` spans until the collector has them all. */
async function throughput(make, collector, count, chunk) {
  collector.reset();
  const processor = make();
  const provider = new NodeTracerProvider({ spanProcessors: [processor] });
  const t0 = performance.now();
  const cpu = await makeSpans(provider, 'tp', count, chunk);
  let flush = 'resolved';
  await provider.forceFlush().catch(() => (flush = 'rejected'));
  const got = await stored(collector, count, 20_000);
  const ms = performance.now() - t0;
  await provider.shutdown().catch(() => undefined);
  return { ms, cpuMsInApp: cpu, stored: got, lost: count - got, flush, requests: collector.stats().requests };
}

/** The outage scenario: collector down for `outageMs`; spans end at its start and half-way; then it is back. */
async function outage(make, collector, perWave, outageMs) {
  collector.reset();
  collector.setFault({ mode: 'down', path: 'otlp' });
  const processor = make();
  const provider = new NodeTracerProvider({ spanProcessors: [processor] });
  const start = Date.now();
  const flushes = [];
  const flushTimed = async () => {
    const t0 = performance.now();
    try {
      await provider.forceFlush();
      flushes.push({ outcome: 'resolved', ms: Math.round(performance.now() - t0) });
    } catch (error) {
      flushes.push({ outcome: 'rejected', ms: Math.round(performance.now() - t0), error: String(error?.message ?? error) });
    }
  };
  await makeSpans(provider, 'w1', perWave, 0);
  await flushTimed();
  await sleep(Math.max(0, outageMs / 2 - (Date.now() - start)));
  await makeSpans(provider, 'w2', perWave, 0);
  await flushTimed();
  await sleep(Math.max(0, outageMs - (Date.now() - start)));
  collector.setFault({ mode: 'none' });
  const back = Date.now();
  await flushTimed();
  // Outbox retries on its own backoff (defaults: 1 s doubling, full jitter); give it up to 30 s to deliver.
  const got = await stored(collector, 2 * perWave, 30_000);
  const deliveredAfterMs = Date.now() - back;
  await provider.shutdown().catch(() => undefined);
  return { sent: 2 * perWave, stored: got, lost: 2 * perWave - got, flushes, deliveredAfterMs };
}

export async function measureOtel({ spans = Number(process.env.BENCH_OTEL_SPANS ?? 5000), runs = Number(process.env.BENCH_RUNS ?? 3), outageMs = Number(process.env.BENCH_OTEL_OUTAGE_MS ?? 10_000) } = {}) {
  const { OutboxSpanProcessor } = await loadOutbox();
  new NodeTracerProvider().register(); // AsyncLocalStorage context, as an app has
  const [refCollector, ourCollector] = await Promise.all([startCollector({ langfuse: 'v4' }), startCollector({ langfuse: 'v4' })]);
  const contenders = [
    { name: 'LangfuseSpanProcessor', collector: refCollector, make: () => new LangfuseSpanProcessor({ ...keys, baseUrl: refCollector.url }) },
    { name: 'OutboxSpanProcessor', collector: ourCollector, make: () => new OutboxSpanProcessor({ ...keys, baseUrl: ourCollector.url }) },
  ];
  const results = { spans, runs, outageMs, throughput: {}, burst: {}, outage: {} };
  try {
    for (const c of contenders) await throughput(c.make, c.collector, 500, 100); // warm-up
    const rounds = Object.fromEntries(contenders.map((c) => [c.name, []]));
    for (let r = 0; r < runs; r++) {
      // Alternate who goes first, so neither always runs on a warmer process.
      for (const c of r % 2 === 0 ? contenders : [...contenders].reverse()) {
        rounds[c.name].push(await throughput(c.make, c.collector, spans, 200));
        log(`${c.name} round ${r + 1}: ${Math.round(rounds[c.name].at(-1).ms)} ms, stored ${rounds[c.name].at(-1).stored}/${spans}`);
      }
    }
    for (const c of contenders) {
      const list = rounds[c.name];
      const ms = median(list.map((x) => x.ms));
      results.throughput[c.name] = {
        spansPerSecond: Math.round(spans / (ms / 1000)),
        usPerSpan: Math.round((ms * 1000) / spans),
        usPerSpanInApp: Math.round((median(list.map((x) => x.cpuMsInApp)) * 1000) / spans),
        lost: Math.max(...list.map((x) => x.lost)),
        requests: median(list.map((x) => x.requests)),
        flush: list.map((x) => x.flush).join(','),
      };
      results.burst[c.name] = await throughput(c.make, c.collector, spans, 0);
      log(`${c.name} burst: stored ${results.burst[c.name].stored}/${spans}`);
    }
    log(`outage of ${outageMs} ms, both at once…`);
    const [ref, ours] = await Promise.all(contenders.map((c) => outage(c.make, c.collector, 100, outageMs)));
    results.outage[contenders[0].name] = ref;
    results.outage[contenders[1].name] = ours;
  } finally {
    await Promise.all([refCollector.close(), ourCollector.close()]);
  }
  return results;
}

/** The table, with Outbox / reference ratios. */
export function printOtel(results) {
  const ref = 'LangfuseSpanProcessor';
  const ours = 'OutboxSpanProcessor';
  const t = results.throughput;
  const row = (label, a, b, ratio = true) =>
    console.log(`${label.padEnd(44)} ${String(a).padStart(22)} ${String(b).padStart(22)} ${ratio && typeof a === 'number' && a > 0 ? (b / a).toFixed(2) + '×' : ''}`);
  console.log(`\nOpenTelemetry span processors, Node ${process.version}, ${results.spans} spans per run, median of ${results.runs}`);
  row('', ref, ours, false);
  row('spans/s (start + end + export, stored)', t[ref].spansPerSecond, t[ours].spansPerSecond);
  row('µs per span (start + end + export)', t[ref].usPerSpan, t[ours].usPerSpan);
  row('µs per span, synchronous part (start + end)', t[ref].usPerSpanInApp, t[ours].usPerSpanInApp);
  row('requests per run', t[ref].requests, t[ours].requests);
  row('spans lost (yielding every 200)', t[ref].lost, t[ours].lost, false);
  row(`spans lost, ${results.spans} ended in one task`, results.burst[ref].lost, results.burst[ours].lost, false);
  const o = results.outage;
  row(`spans lost, ${results.outageMs / 1000} s outage (of ${o[ref].sent})`, o[ref].lost, o[ours].lost, false);
  const flushes = (x) => x.flushes.map((f) => `${f.outcome[0] === 'r' && f.outcome === 'rejected' ? 'REJ' : 'ok'} ${f.ms}ms`).join(', ');
  row('forceFlush ×3 (outage, outage, after)', flushes(o[ref]), flushes(o[ours]), false);
  row('all stored after recovery, ms', o[ref].lost === 0 ? o[ref].deliveredAfterMs : 'never', o[ours].lost === 0 ? o[ours].deliveredAfterMs : 'never', false);
  const rejection = o[ref].flushes.find((f) => f.outcome === 'rejected');
  if (rejection) console.log(`(LangfuseSpanProcessor's forceFlush rejected with: ${rejection.error})`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const results = await measureOtel();
  printOtel(results);
  process.exit(0);
}

// `npm run bench`: measures Outbox as its users feel it and prints a table; writes bench/results/<time>.json
// (git-ignored) and bench/results/latest.json. Not a test: nothing here passes or fails on timing.
// Environment: CHROMIUM_PATH (default /usr/bin/chromium), BENCH_RUNS (default 5), BENCH_ONLY=track,sustained,
// wire,naive,burst,observations,unload,memory,relay,sizes,workerd (default all), BENCH_SUSTAINED (events per
// sustained run, default 30 000: three times the queue bound, and a full run stays near 10 minutes on 2 cores),
// BENCH_RELAY_REQUESTS (requests per relay run, default 500), BENCH_OUTAGES (collector outages in seconds for the
// recovery part, default 10,60; `node bench/outage.mjs --outages 600` is the 10-minute one), BENCH_OBSERVATIONS
// (observations per run of the observations part, default 2000).
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { startCollector } from '../demo/collector/server.mjs';
import { CHROMIUM_ARGS } from '../scripts/chromium.mjs';
import { measureTrackCost, measureSustained, measureWire, measureNaive } from './browser.mjs';
import { measureBurst } from './burst.mjs';
import { measureObservations } from './observations.mjs';
import { measureUnload } from './unload.mjs';
import { measureMemory } from './memory.mjs';
import { measureRelay } from './relay.mjs';
import { bundleSizes, zodExternalSizes } from './sizes.mjs';
import { measureWorkerd } from './workerd.mjs';
import { measureOutage } from './outage.mjs';
import { fmt } from './stats.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const runs = Number(process.env.BENCH_RUNS ?? 5);
const PARTS = 'track,sustained,wire,naive,burst,observations,unload,memory,relay,sizes,workerd,outage';
const only = new Set((process.env.BENCH_ONLY ?? PARTS).split(','));

/** The test suite's Chromium flags, plus precise memory info. */
const chromiumLaunch = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [...CHROMIUM_ARGS, '--enable-precise-memory-info'], // precise: performance.memory for the peak heap
};

const log = (...a) => console.error('[bench]', ...a);
const outDir = path.join(root, 'bench', 'results');
/** Writes what is measured so far to bench/results/partial.json (a run cut short still leaves its numbers). */
function savePartial() {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'partial.json'), JSON.stringify(results, null, 2));
}
const started = Date.now();
const collector = await startCollector({
  staticDirs: [
    { prefix: '/dist/', dir: dist },
    { prefix: '/bench/', dir: path.join(root, 'bench') },
  ],
});
// Spans go to the OTLP route, which the v4 collector answers as Langfuse v4 does (Basic pk:sk only).
const staticDirs = [
  { prefix: '/dist/', dir: dist },
  { prefix: '/bench/', dir: path.join(root, 'bench') },
];
const collectorV4 = only.has('observations') ? await startCollector({ langfuse: 'v4', staticDirs }) : null;
const browser = await chromium.launch({ headless: true, ...chromiumLaunch });
const results = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, chromium: browser.version(), loadAvgAtStart: os.loadavg() },
  runs,
};

try {
  if (only.has('track')) {
    results.trackCost = [];
    // The defaults (flushAt 15, Langfuse's), then flushAt 1000 to separate the client's own cost from the
    // browser's per-request cost.
    for (const [storage, flushAt] of [['memory'], ['indexeddb'], ['indexeddb', 1000]]) {
      log(`track() cost, storage '${storage}'${flushAt ? `, flushAt ${flushAt}` : ''}…`);
      const r = await measureTrackCost(browser, collector, { storage, flushAt, runs });
      // IndexedDB is measured only where the browser entry really uses it (durableStorageOf finds a store).
      if (storage === 'indexeddb' && !r.indexedDbActive) r.note = "storage 'indexeddb' not active in this build: measured memory only";
      results.trackCost.push(r);
    }
  }
  const idbActive = results.trackCost?.find((r) => r.storage === 'indexeddb')?.indexedDbActive ?? true;
  savePartial();
  if (only.has('sustained')) {
    results.sustained = [];
    const storage = idbActive ? 'indexeddb' : 'memory';
    for (const paced of [true, false]) {
      log(`sustained ${process.env.BENCH_SUSTAINED ?? 30_000} events, ${paced ? 'paced' : 'blind'} producer, storage '${storage}'…`);
      results.sustained.push(await measureSustained(browser, collector, { storage, paced, runs }));
      savePartial();
    }
  }
  if (only.has('wire')) {
    log('requests and bytes for 1 000 events…');
    results.wire = await measureWire(browser, collector);
    savePartial();
  }
  if (only.has('naive')) {
    log('naive reference (one fetch per event)…');
    results.naive = await measureNaive(browser, collector, { runs });
    savePartial();
  }
  if (only.has('burst')) {
    log('burst: 10 000 events in chunks of 250, Outbox (IndexedDB, defaults) and the naive batcher…');
    results.burst = await measureBurst(browser, collector, { runs });
    savePartial();
  }
  if (only.has('observations')) {
    log('observations: page (Outbox via relay, OpenTelemetry web) and Node (Outbox, @langfuse/tracing + LangfuseSpanProcessor)…');
    // BENCH_OBSERVATIONS: observations per run (default 2000; chunks of 100). A page's own task waits at most 100 ms
    // behind the caller's tasks (src/platform/own-task.ts): runs longer than that show what a sustained caller pays.
    const n = Number(process.env.BENCH_OBSERVATIONS ?? 2000);
    results.observations = await measureObservations(browser, collectorV4, { benchDir: path.join(root, 'bench'), dist, runs, n });
    savePartial();
  }
  if (only.has('unload')) {
    log('unload: the pagehide path with 2 000 queued events…');
    results.unload = await measureUnload(browser, collector, { runs });
    savePartial();
  }
  if (only.has('memory')) {
    log('memory: JS heap after GC, 10 000 queued and drained, 10 bursts…');
    results.memory = await measureMemory(browser, collector);
    savePartial();
  }
  if (only.has('relay')) {
    log('relay overhead: requests of 20 spans, concurrency 16: direct, plain proxy, Outbox relay…');
    results.relay = await measureRelay({ benchDir: path.join(root, 'bench'), runs });
    savePartial();
  }
  if (only.has('sizes')) {
    results.sizes = await bundleSizes(dist);
    results.sizesZodExternal = await zodExternalSizes(root);
  }
  if (only.has('workerd')) {
    log('workerd: withOutbox vs a plain worker…');
    collector.reset();
    results.workerd = await measureWorkerd(dist, {
      endpoint: collector.endpoint,
      waitEvents: (n) => collector.waitFor((c) => c.stats().eventsStored >= n && c.stats().eventsStored, 60_000).catch(() => collector.stats().eventsStored),
    }, { runs }).catch((error) => ({ error: String(error?.stack ?? error).slice(0, 2000) }));
  }
  if (only.has('outage')) {
    log('recovery after collector outages: Outbox, naive batcher, OTel exporter…');
    results.outage = await measureOutage({ outagesS: (process.env.BENCH_OUTAGES ?? '10,60').split(',').map(Number) });
  }
} finally {
  await browser.close();
  await collector.close();
  await collectorV4?.close();
}
results.durationS = (Date.now() - started) / 1000;
results.machine.loadAvgAtEnd = os.loadavg();

// Ratios against the naive reference, so numbers compare across machines.
const naive = results.naive;
const mem = results.trackCost?.find((r) => r.storage === 'memory');
const idb = results.trackCost?.find((r) => r.storage === 'indexeddb' && r.flushAt === 15 && r.indexedDbActive);
const paced = results.sustained?.find((s) => s.producer.startsWith('paced'));
if (naive) {
  results.ratiosToNaive = {
    syncTrackCost_memory: mem && mem.syncUsPerEvent.median / naive.syncUsPerEvent.median,
    totalMainThread_memory: mem && mem.totalMainThreadUsPerEvent.median / naive.totalMainThreadUsPerEvent.median,
    totalMainThread_indexeddb: idb && idb.totalMainThreadUsPerEvent.median / naive.totalMainThreadUsPerEvent.median,
    deliveredPerSecond: paced && paced.deliveredPerSecond.median / naive.deliveredPerSecond.median,
    bytesPerEvent_none: results.wire && results.wire.none.bytesPerEvent / naive.bytesPerEvent,
    bytesPerEvent_gzip: results.wire && results.wire.gzip.bytesPerEvent / naive.bytesPerEvent,
    requestsPerEvent: results.wire && results.wire.none.requests / results.wire.none.events / naive.requestsPerEvent,
  };
}

const rows = [];
const row = (what, value, target = '') => rows.push([what, value, target]);
for (const r of results.trackCost ?? []) {
  const name = (r.storage === 'memory' || r.indexedDbActive ? r.storage : `${r.storage} (not active: memory)`) + `, flushAt ${r.flushAt}`;
  row(`track() sync loop, ${name}, µs/event`, fmt(r.syncUsPerEvent), '≤ 1–2');
  row(`track() main-thread CPU until persisted+sent, ${name}, µs/event`, fmt(r.totalMainThreadUsPerEvent), '≤ 5');
  row(`  (same, wall time inside tasks), µs/event`, fmt(r.totalMainThreadTaskWallUsPerEvent));
  row(`  burst wall time until all acknowledged, ms`, fmt(r.wallMsPerBurst, 0));
  if (r.idbWriteTransactionsPerBurst) row(`IndexedDB write transactions per 10 000-event burst (appends + acks)`, fmt(r.idbWriteTransactionsPerBurst, 0), '≤ 5');
  if (r.notDelivered) row(`  not delivered (${r.storage})`, String(r.notDelivered), '0');
}
for (const s of results.sustained ?? []) {
  row(`sustained ${s.events} events, ${s.producer}, delivered events/s`, fmt(s.deliveredPerSecond, 0));
  row(`  peak JS heap MB`, fmt(s.peakHeapMB, 1));
  row(`  peak queued+inflight (bound ${s.queueBound})`, String(s.peakQueued), `≤ ${s.queueBound}`);
  row(`  lost per run`, `${s.lostPerRun.join(', ')} ${JSON.stringify(s.droppedByReason[0])}`, s.producer.startsWith('paced') ? '0' : '');
}
if (results.wire) {
  for (const [mode, w] of Object.entries(results.wire)) {
    row(`1 000 events × 100 B in one task, compression '${mode}': requests`, `${w.requests} (ceil(N/maxBatchEvents) = ${w.expectedRequests})`, '= ceil(N/maxBatchEvents)');
    row(`  bytes/event on the wire (JSON ${w.jsonBytesPerEvent.toFixed(1)}, gzip -9 ${w.gzip9BytesPerEvent.toFixed(1)})`, w.bytesPerEvent.toFixed(1));
    if (mode === 'gzip') row(`  ratio to gzip -9 of the same JSON`, `${w.ratioToGzip9.toFixed(3)}×`, '≤ 1.15×');
  }
}
if (results.burst) {
  const b = results.burst;
  const idbNote = b.indexedDbActive ? 'IndexedDB' : 'IndexedDB NOT active: memory';
  for (const [name, x, goals] of [[`Outbox (${idbNote}, flushAt 15, maxBatchEvents 500)`, b.outbox, true], ['naive batcher (50 events / 1 s, no storage)', b.naive, false]]) {
    row(`burst 10 000 in chunks of 250, ${name}: blocking µs/event`, fmt(x.blockingUsPerEvent), goals ? '≤ 5' : '');
    row(`  of which the track() loops alone, µs/event`, fmt(x.syncUsPerEvent));
    row(`  worst chunk (250 calls + microtasks), ms`, fmt(x.worstChunkMs));
    row(`  main-thread until delivered (CDP TaskDuration), µs/event`, fmt(x.mainThreadTaskUsPerEvent), goals ? '≤ 20' : '');
    row(`  main-thread CPU until delivered (CDP ThreadTime), µs/event`, fmt(x.mainThreadCpuUsPerEvent));
    row(`  requests per 10 000 events`, fmt(x.requests, 0));
    row(`  delivered (collector) / time until all acked, ms`, `${fmt(x.delivered, 0)} / ${fmt(x.deliveredMs, 0)}`, '10000');
  }
  row(`burst ratio Outbox/naive: blocking · main-thread (TaskDuration) · requests`, [
    b.outbox.blockingUsPerEvent.median / b.naive.blockingUsPerEvent.median,
    b.outbox.mainThreadTaskUsPerEvent.median / b.naive.mainThreadTaskUsPerEvent.median,
    b.outbox.requests.median / b.naive.requests.median,
  ].map((v) => `${v.toFixed(2)}×`).join(' · '));
}
if (results.observations) {
  const o = results.observations;
  const bytes = (x) => `${fmt(x.bytesPerSpan, 0)}${x.encodings ? ` (${x.encodings.map((e) => e ?? 'identity').join(', ')})` : ''}`;
  const WORK = { '': 'observation (start+update+end)', '-active': 'startActiveObservation round trip', '-observe': 'observe()d call' };
  const OTEL_WORK = { '': 'observation (start+update+end)', '-active': 'startActiveSpan round trip', '-observe': 'startActiveSpan around a call' };
  for (const [key, label] of ['', '-active', '-observe'].flatMap((k) => [[`page-outbox${k}`, `${WORK[k]} page, Outbox (IndexedDB, via relay)`], [`page-otel-web${k}`, `${OTEL_WORK[k]} page, @opentelemetry/sdk-trace-web`]])) {
    const x = o[key];
    if (!x) continue;
    row(`${label}: blocking µs`, fmt(x.blockingUsPerObservation));
    row(`  main-thread until stored (TaskDuration / ThreadTime), µs`, `${fmt(x.mainThreadTaskUsPerObservation)} / ${fmt(x.mainThreadCpuUsPerObservation)}`);
    row(`  bytes/span at the collector, requests per ${o.observations}, stored`, `${bytes(x)}, ${fmt(x.requests, 0)}, ${fmt(x.stored, 0)}`);
    if (x.pageToRelayBytesPerSpan) row(`  bytes/span page → relay`, fmt(x.pageToRelayBytesPerSpan, 0));
  }
  for (const [key, label] of ['', '-active', '-observe'].flatMap((k) => [[`node-outbox${k}`, `${WORK[k]} Node, Outbox dist/node.js`], [`node-langfuse${k}`, `${WORK[k]} Node, @langfuse/tracing + LangfuseSpanProcessor`]])) {
    const x = o[key];
    if (!x) continue;
    if (x.error) {
      row(`${label}`, `failed: ${x.error.split('\n')[0]}`);
      continue;
    }
    row(`${label}: blocking µs (wall / process CPU)`, `${fmt(x.blockingUsPerObservation)} / ${fmt(x.blockingCpuUsPerObservation)}`);
    row(`  process CPU until stored, µs`, fmt(x.cpuUsPerObservation));
    row(`  bytes/span at the collector, requests per ${o.observations}, stored`, `${bytes(x)}, ${fmt(x.requests, 0)}, ${fmt(x.stored, 0)}`);
  }
  const ratio = (a, b, k) => (o[a]?.[k] && o[b]?.[k] ? `${(o[a][k].median / o[b][k].median).toFixed(2)}×` : 'n/a');
  row('observation ratio page Outbox/OTel web: blocking · main-thread CPU · bytes/span', [ratio('page-outbox', 'page-otel-web', 'blockingUsPerObservation'), ratio('page-outbox', 'page-otel-web', 'mainThreadCpuUsPerObservation'), ratio('page-outbox', 'page-otel-web', 'bytesPerSpan')].join(' · '));
  row('observation ratio Node Outbox/Langfuse: blocking · CPU · bytes/span', [ratio('node-outbox', 'node-langfuse', 'blockingUsPerObservation'), ratio('node-outbox', 'node-langfuse', 'cpuUsPerObservation'), ratio('node-outbox', 'node-langfuse', 'bytesPerSpan')].join(' · '));
  const cpuOf = (client) => o[`cpu-${client}`];
  if (cpuOf('outbox') && !cpuOf('outbox').error && cpuOf('langfuse') && !cpuOf('langfuse').error) {
    for (const kind of ['plain', 'active', 'observe']) {
      row(`Node CPU µs per observation, nothing sent (${kind}): Outbox / @langfuse/tracing`, `${fmt(cpuOf('outbox')[kind])} / ${fmt(cpuOf('langfuse')[kind])}`);
    }
  }
  for (const k of ['-active', '-observe']) {
    row(`${WORK[k]} ratio page Outbox/OTel web: blocking · main-thread CPU`, [ratio(`page-outbox${k}`, `page-otel-web${k}`, 'blockingUsPerObservation'), ratio(`page-outbox${k}`, `page-otel-web${k}`, 'mainThreadCpuUsPerObservation')].join(' · '));
    row(`${WORK[k]} ratio Node Outbox/Langfuse: blocking · CPU`, [ratio(`node-outbox${k}`, `node-langfuse${k}`, 'blockingUsPerObservation'), ratio(`node-outbox${k}`, `node-langfuse${k}`, 'cpuUsPerObservation')].join(' · '));
  }
}
if (results.unload) {
  const u = results.unload;
  row(`unload: pagehide listener with ${u.queued} queued (${u.indexedDbActive ? 'IndexedDB' : 'memory'}, cold), ms`, fmt(u.handlerMs), 'short');
  row(`  until the next macrotask, ms`, fmt(u.untilNextTaskMs));
  row(`  main-thread CPU of the dispatch (CDP ThreadTime), ms`, fmt(u.mainThreadCpuMs));
  row(`  queued at pagehide / requests (client, collector) / stored within 5 s`, `${fmt(u.queuedBefore, 0)} / ${fmt(u.requests, 0)}, ${fmt(u.collectorRequests, 0)} / ${fmt(u.deliveredWithin5s, 0)}`);
  if (u.markUsPerRecord) row(`  sent-mark of 222 of the ${u.queued} stored (markSent): synchronous, µs per record`, fmt(u.markUsPerRecord));
  if (u.markSettledMs) row(`    until stored, ms`, fmt(u.markSettledMs));
}
if (results.memory) {
  const m = results.memory;
  row(`JS heap after GC (${m.indexedDbActive ? 'IndexedDB' : 'memory'}): baseline, MB`, m.baselineMB.toFixed(2));
  row(`  with ${m.events} tracked behind a slow collector (held: ${fmt(m.queuedHeld, 0)}), ${m.bursts} bursts, MB`, fmt(m.queuedMB));
  row(`  after they drained, MB`, fmt(m.drainedMB));
  row(`  drained heap growth, burst 1 → ${m.bursts}, MB`, m.drainedGrowthMB.toFixed(2), '≈ 0');
}
if (results.relay) {
  const x = results.relay;
  row(`relay overhead, ${x.requests} requests × ${x.records} spans, concurrency ${x.concurrency}: collector direct p50 / p99, ms`, `${fmt(x.direct.p50Ms)} / ${fmt(x.direct.p99Ms)}`);
  row(`  direct: spans stored/s`, fmt(x.direct.recordsPerS, 0));
  for (const [name, label] of [['plain', 'plain node:http proxy'], ['relay', 'Outbox relay (toNodeListener)']]) {
    row(`  ${label}: added p50 / p99, ms`, `${fmt(x[name].addedP50Ms)} / ${fmt(x[name].addedP99Ms)}`);
    row(`  ${label}: spans stored/s (stored per run)`, `${fmt(x[name].recordsPerS, 0)} (${fmt(x[name].stored, 0)})`);
  }
  row(`  ratio relay/plain: p50 · spans/s`, `${(x.relay.p50Ms.median / x.plain.p50Ms.median).toFixed(2)}× · ${(x.relay.recordsPerS.median / x.plain.recordsPerS.median).toFixed(2)}×`);
}
if (naive) {
  row(`naive fetch-per-event: sync µs/event`, fmt(naive.syncUsPerEvent));
  row(`naive: main-thread CPU µs/event`, fmt(naive.totalMainThreadUsPerEvent));
  row(`naive: delivered events/s`, fmt(naive.deliveredPerSecond, 0));
  row(`naive: bytes/event`, naive.bytesPerEvent.toFixed(1));
}
for (const [k, v] of Object.entries(results.ratiosToNaive ?? {})) if (v !== undefined) row(`ratio outbox/naive: ${k}`, `${v.toFixed(3)}×`);
for (const s of results.sizes ?? []) row(`size ${s.file}`, `${s.minGzipBytes} B min+gz (${s.minBytes} B min)${s.budgetBytes && s.minGzipBytes > s.budgetBytes ? `, OVER budget by ${s.minGzipBytes - s.budgetBytes} B` : ''}`, s.budgetBytes ? `≤ ${s.budgetBytes} B (.size-limit.mjs)` : '');
for (const s of results.sizesZodExternal ?? []) {
  row(`size of ${s.as} bundled by an app, min+gz: everything / zod external`, `${s.all.minGzipBytes} B / ${s.zodExternal.minGzipBytes} B (zod: ${s.zodMinGzipBytes} B)`);
}
if (results.workerd?.error) row('workerd withOutbox latency', `failed: ${results.workerd.error.split('\n')[0]}`);
else if (results.workerd?.missing) row('workerd withOutbox latency', `missing: ${results.workerd.missing}`);
else if (results.workerd) {
  const w = results.workerd;
  row('workerd: plain worker, ms/request', fmt(w.plainMs, 3));
  row('workerd: withOutbox (3 events/request), ms/request', fmt(w.withOutboxMs, 3));
  row('workerd: added latency, ms/request', fmt(w.addedMsPerRequest, 3), '≈ 0');
  row('workerd: events delivered / tracked', `${w.eventsDelivered} / ${w.eventsTracked}`);
}

for (const { seconds, rows: senders } of results.outage ?? []) {
  for (const r of senders) {
    const after = r.afterRecoveryMs === null ? 'not all within 45 s' : `last after ${(r.afterRecoveryMs / 1000).toFixed(1)} s`;
    row(`${seconds} s collector outage, 200 tracked during it, ${r.name}: delivered, time after recovery, requests during (per min)`, `${r.delivered}/200, ${after}, ${r.requestsDuring} (${r.perMinute.toFixed(1)})`, r.name.startsWith('Outbox') ? 'all ≤ 10 s' : '');
  }
}
const width = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), 6));
console.log(`\nOutbox benchmark — ${results.date}, ${results.machine.cpus} × ${results.machine.cpu}, Chromium ${results.machine.chromium}, median (min–max) of ${runs} runs, load average ${results.machine.loadAvgAtStart[0].toFixed(1)} → ${results.machine.loadAvgAtEnd[0].toFixed(1)}\n`);
console.log(['measure', 'value', 'target'].map((h, i) => h.padEnd(width[i])).join('  '));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(width[i])).join('  '));
mkdirSync(outDir, { recursive: true });
const file = path.join(outDir, `${results.date.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(results, null, 2));
writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify(results, null, 2));
console.log(`\nwrote ${path.relative(root, file)} (${results.durationS.toFixed(0)} s)`);

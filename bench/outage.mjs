// `node bench/outage.mjs [--outages 10,60]`: recovery after a collector outage, in one Node process. Three senders,
// each against its own collector (demo/collector, in this process), all in the same run: Outbox's Node client
// (dist/node.js), the naive batcher (bench/naive-batcher.js: no retry) and OpenTelemetry's OTLP/HTTP exporter
// behind a BatchSpanProcessor (@opentelemetry/exporter-trace-otlp-http; its own retry). Each collector drops every
// connection for the outage (fault 'down'); 200 records (spans) are made during it, evenly over its first half; then
// it answers again. Printed per outage length: records delivered, time from recovery until the last one arrived,
// and requests made during the outage (per minute too). The outage length is injectable: `--outages 600` is the
// 10-minute run (long: run it once, by itself). OUTBOX_DIST points at another build to compare. Not a test: nothing
// passes or fails on timing.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execFileSync } from 'node:child_process';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { startCollector } from '../demo/collector/server.mjs';
import { createNaiveBatcher } from './naive-batcher.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const keys = { publicKey: 'pk-lf-bench', secretKey: 'sk-lf-bench' };
const RECORDS = 200;
/** How long after recovery a sender may take before it counts as not delivering. */
const WAIT_AFTER_MS = 45_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error('[bench:outage]', ...a);

async function loadOutbox() {
  const file = path.join(process.env.OUTBOX_DIST ?? path.join(root, 'dist'), 'node.js');
  if (!existsSync(file)) execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
  return import(pathToFileURL(file).href);
}

/** The senders: each `make(collector)` returns `{ record(i), stored(), close() }`. */
function senders(createOutbox) {
  const basic = `Basic ${Buffer.from(`${keys.publicKey}:${keys.secretKey}`).toString('base64')}`;
  return [
    {
      name: 'Outbox (Node client)',
      make(collector) {
        const outbox = createOutbox({ endpoint: `${collector.url}/api/public/ingestion`, ...keys, flushAt: 20 });
        return { record: (i) => outbox.track('event-create', { i }), stored: () => collector.stats().eventsStored, close: () => outbox.shutdown() };
      },
    },
    {
      name: 'naive batcher',
      make(collector) {
        const naive = createNaiveBatcher({ endpoint: `${collector.url}/api/public/ingestion`, publicKey: keys.publicKey, batchSize: 20 });
        return { record: (i) => naive.track('event-create', { i }), stored: () => collector.stats().eventsStored, close: () => undefined };
      },
    },
    {
      name: 'OTel OTLP exporter + BatchSpanProcessor',
      make(collector) {
        const exporter = new OTLPTraceExporter({ url: collector.otlpEndpoint, headers: { Authorization: basic } });
        const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 })] });
        const tracer = provider.getTracer('bench-outage');
        return {
          record: (i) => tracer.startSpan(`span-${i}`, { attributes: { i } }).end(),
          stored: () => collector.stats().observationsStored,
          close: () => provider.shutdown().catch(() => undefined),
        };
      },
    },
  ];
}

/** One outage of `outageMs` for one sender against its own collector; resolves with what it measured. */
async function one(sender, collector, outageMs, recoverAt) {
  const s = sender.make(collector);
  const requestsBefore = collector.stats().requests;
  const spread = outageMs / 2 / RECORDS;
  for (let i = 0; i < RECORDS; i++) {
    s.record(i);
    await sleep(spread);
  }
  await sleep(Math.max(0, recoverAt - Date.now()));
  const requestsDuring = collector.stats().requests - requestsBefore;
  // The collector answers again at recoverAt (set by the caller for all three at once).
  let doneAt = null;
  while (Date.now() - recoverAt < WAIT_AFTER_MS) {
    if (s.stored() >= RECORDS) {
      doneAt = Date.now();
      break;
    }
    await sleep(20);
  }
  const delivered = s.stored();
  await s.close();
  return { name: sender.name, delivered, afterRecoveryMs: doneAt === null ? null : doneAt - recoverAt, requestsDuring, perMinute: (requestsDuring * 60_000) / outageMs };
}

export async function measureOutage({ outagesS = [10, 60] } = {}) {
  const { createOutbox } = await loadOutbox();
  const results = [];
  for (const seconds of outagesS) {
    const outageMs = seconds * 1000;
    const list = senders(createOutbox);
    const collectors = await Promise.all(list.map(() => startCollector()));
    for (const c of collectors) c.setFault({ mode: 'down' });
    const recoverAt = Date.now() + outageMs;
    log(`outage of ${seconds} s: ${RECORDS} records each, over its first half…`);
    const heal = sleep(outageMs).then(() => {
      for (const c of collectors) c.setFault({ mode: 'none' });
    });
    const rows = await Promise.all(list.map((s, i) => one(s, collectors[i], outageMs, recoverAt)));
    await heal;
    await Promise.all(collectors.map((c) => c.close()));
    results.push({ seconds, rows });
  }
  return results;
}

export function formatOutage(results) {
  const lines = ['outage  sender                                     delivered  last arrival after recovery  requests during (per min)'];
  for (const { seconds, rows } of results) {
    for (const r of rows) {
      const after = r.afterRecoveryMs === null ? `not within ${WAIT_AFTER_MS / 1000} s` : `${(r.afterRecoveryMs / 1000).toFixed(1)} s`;
      lines.push(`${`${seconds} s`.padEnd(7)} ${r.name.padEnd(42)} ${`${r.delivered}/${RECORDS}`.padStart(9)}  ${after.padStart(27)}  ${String(r.requestsDuring).padStart(8)} (${r.perMinute.toFixed(1)})`);
    }
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--outages');
  const outagesS = i >= 0 ? process.argv[i + 1].split(',').map(Number) : [10, 60];
  console.log(formatOutage(await measureOutage({ outagesS })));
  process.exit(0);
}

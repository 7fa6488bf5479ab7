// The demo page: one Outbox client driven by buttons, the collector's fault switch, and a live dashboard of
// both sides (client stats polled, collector stats pushed over SSE) with a chart over time.
import * as outboxLib from '/dist/outbox.browser.js';
import { setText, fillRows, fillCells, logLine, formatBytes } from './render.js';
import { createChart } from './chart.js';
import { createTracesPanel } from './traces.js';
import { watchCollectorStats, createEventFeed, setFault, getFault, resetCollector, describeFault } from './collector-feed.js';
import { setUpServiceWorker, askServiceWorkerToReplay, watchServiceWorker, SW_DELIVERED, SW_DROPPED } from './service-worker.js';

const ENDPOINT = '/api/public/ingestion';
/** Dashboard refresh period for the client side and the chart, ms. */
const TICK_MS = 500;
const DROP_LABELS = {
  invalid: 'invalid', 'too-large': 'too large', 'queue-full': 'queue full', rejected: 'rejected (4xx)',
  'retry-exhausted': 'retries exhausted', expired: 'expired', shutdown: 'after shutdown',
};

const params = new URLSearchParams(location.search);
const logList = /** @type {HTMLOListElement} */ (document.getElementById('log'));
const log = (message) => logLine(logList, message);
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** A client tuned for watching: batches of 15, at most 1 s wait, backoff capped at 5 s so recovery is quick. */
function newClient() {
  return outboxLib.createOutbox({
    endpoint: ENDPOINT,
    publicKey: 'pk-demo',
    flushAt: 15,
    flushInterval: 1,
    retry: { initialDelayMs: 500, maxDelayMs: 5000, maxAttempts: 10 },
    onDrop: ({ reason, count, detail }) => log(`dropped ${count} event(s): ${reason}${detail ? ` — ${detail}` : ''}`),
    onError: (err) => log(`error: ${err.message}`),
  });
}

let outbox = newClient();
let n = 0;
const track = (count) => {
  for (let i = 0; i < count; i++) outbox.track('demo-click', { n: ++n, at: new Date().toISOString(), note: 'from the demo page' });
  log(`tracked ${count}`);
};
$('track1').addEventListener('click', () => track(1));
$('track100').addEventListener('click', () => track(100));
$('track10000').addEventListener('click', () => track(10_000));
$('flush').addEventListener('click', async () => {
  log('flush…');
  await outbox.flush();
  log('flush resolved');
});
$('shutdown').addEventListener('click', async () => {
  log('shutdown…');
  await outbox.shutdown();
  log('shut down: track() now drops events with reason "shutdown"');
  $('newclient').hidden = false;
});
$('newclient').addEventListener('click', () => {
  outbox = newClient();
  $('newclient').hidden = true;
  log('new client created (it recovers what the old one left in IndexedDB)');
});

// Collector faults.
for (const button of document.querySelectorAll('button[data-fault]')) {
  button.addEventListener('click', async () => {
    const fault = JSON.parse(/** @type {HTMLElement} */ (button).dataset.fault ?? '{}');
    const error = await setFault(fault);
    log(error ? `fault not set: ${error}` : `collector fault: ${describeFault(fault)}`);
    if (!error && fault.mode === 'none' && askServiceWorkerToReplay()) log('asked the service worker to replay its queue');
    showFault();
  });
}
$('reset-collector').addEventListener('click', async () => {
  await resetCollector();
  log('collector cleared');
  showFault();
});
async function showFault() {
  try {
    setText('fault', describeFault(await getFault()));
  } catch {
    setText('fault', 'collector unreachable');
  }
}
showFault();

// A Worker started by `npm run demo:worker` is passed as ?worker=URL: each call tracks one event there.
const workerUrl = params.get('worker');
if (workerUrl && /^https?:\/\//.test(workerUrl)) {
  $('worker-controls').hidden = false;
  $('worker-call').addEventListener('click', async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => fetch(`${workerUrl}/demo/${i}`).then((r) => r.status, (e) => String(e))),
    );
    setText('worker-status', `answers: ${results.join(', ')}`);
    log(`called the Worker 5 times`);
  });
}

// Client side: stats() polled; IndexedDB contents when the build has the durable queue.
const chart = createChart($('chart'));
let stored = 0;
function renderClient() {
  const s = outbox.stats();
  for (const key of ['tracked', 'queued', 'inflight', 'sent', 'retried', 'handedOff', 'recovered', 'requests', 'lastFlushReason', 'lastError']) {
    setText(`c-${key}`, s[key]);
  }
  const storage = typeof outboxLib.durableStorageOf === 'function' ? outboxLib.durableStorageOf(outbox) : undefined;
  setText('c-idb', storage ? `${storage.size()} event(s)` : 'not used (memory queue)');
  fillRows(
    /** @type {HTMLTableSectionElement} */ (document.querySelector('#dropped-table tbody')),
    Object.entries(s.dropped ?? {}).map(([reason, count]) => [reason, DROP_LABELS[reason] ?? reason, count]),
    'c-dropped-',
  );
  chart.push({ queued: s.queued, inflight: s.inflight, stored });
}
setInterval(renderClient, TICK_MS);
renderClient();

// Collector side: pushed over SSE.
const feed = createEventFeed(10);
const tracesPanel = createTracesPanel($('traces'));
watchCollectorStats(
  async (stats) => {
    stored = stats.eventsStored;
    for (const key of ['requests', 'eventsReceived', 'eventsStored', 'duplicates', 'invalidEvents', 'spansReceived', 'observationsStored', 'spanDuplicates', 'tracesStored', 'scoresStored']) {
      setText(`s-${key}`, stats[key]);
    }
    tracesPanel.update(stats);
    setText('s-bytesReceived', `${formatBytes(stats.bytesReceived)} (${stats.bytesReceived} B)`);
    fillRows(
      /** @type {HTMLTableSectionElement} */ (document.querySelector('#status-table tbody')),
      Object.entries(stats.byStatus ?? {})
        .sort(([a], [b]) => Number(a) - Number(b))
        .map(([status, count]) => [status, status === '0' ? 'no answer (down)' : status, count]),
      's-status-',
    );
    await feed.update(stats.eventsStored);
    fillCells(
      /** @type {HTMLTableSectionElement} */ (document.querySelector('#type-table tbody')),
      feed.byType(),
    );
    fillCells(
      /** @type {HTMLTableSectionElement} */ (document.querySelector('#events tbody')),
      feed.latest().map((e) => [String(e.seq), String(e.type), String(e.id), JSON.stringify(e.body).slice(0, 160)]),
    );
  },
  (state) => setText('stream-state', state === 'live' ? '● live' : '○ reconnecting…'),
);

// The service worker, when dist/outbox-sw.js exists (?sw=off to run without it).
let replayedBySw = 0;
watchServiceWorker((data) => {
  if (data?.type === SW_DELIVERED) {
    replayedBySw += Number(data.count) || 0;
    setText('c-swDelivered', replayedBySw);
    log(`service worker delivered ${Number(data.count) || 0} event(s) from its queue`);
  } else if (data?.type === SW_DROPPED) {
    log(`service worker dropped ${Number(data.count) || 0} event(s)${data.reason ? `: ${String(data.reason)}` : ''}`);
  }
});
setUpServiceWorker({ enabled: params.get('sw') !== 'off', endpoint: ENDPOINT }).then(
  (state) => setText('c-sw', state),
  (err) => setText('c-sw', `registration failed: ${err?.message ?? err}`),
);
setText('client-mode', typeof outboxLib.durableStorageOf === 'function' ? '(IndexedDB queue)' : '(memory queue)');

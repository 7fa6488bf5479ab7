// The demo page: one Outbox client driven by buttons, the collector's fault switch, and a live dashboard of
// both sides (client stats polled, collector stats pushed over SSE) with a chart over time and the traces tree.
// The page sends what a Langfuse user sends — traces of observations and scores — through the Outbox relay
// (`relay: '/lf'`, public key only); the relay holds the secret key and forwards to the collector (Langfuse v4).
import * as outboxLib from '/dist/testing/outbox.browser.js';
import { setText, fillRows, fillCells, logLine, formatBytes } from './render.js';
import { createChart } from './chart.js';
import { createTracesPanel } from './traces.js';
import { recordChatTurn, recordBurst } from './turns.js';
import { watchCollectorStats, createEventFeed, setFault, getFault, resetCollector, describeFault } from './collector-feed.js';
import { setUpServiceWorker, askServiceWorkerToReplay, watchServiceWorker, SW_DELIVERED, SW_DROPPED } from './service-worker.js';
import { wireLlmChat } from './llm-chat.js';

const params = new URLSearchParams(location.search);
// A relay Worker started by `npm run demo:worker` is passed as ?worker=URL: the page then sends through the
// relay in that Worker (another origin) instead of the one mounted here.
const workerParam = params.get('worker');
const workerUrl = workerParam && /^https?:\/\/[^/]+$/.test(workerParam) ? workerParam : '';
const RELAY = workerUrl ? `${workerUrl}/lf` : '/lf';
const PUBLIC_KEY = 'pk-lf-demo';
/** Dashboard refresh period for the client side and the chart, ms. */
const TICK_MS = 500;
const DROP_LABELS = {
  invalid: 'invalid', 'too-large': 'too large', 'queue-full': 'queue full', rejected: 'rejected (4xx)',
  'retry-exhausted': 'retries exhausted', expired: 'expired', shutdown: 'after shutdown',
};

const logList = /** @type {HTMLOListElement} */ (document.getElementById('log'));
const log = (message) => logLine(logList, message);
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/**
 * A client tuned for watching: sends start at 15 records, at most 1 s wait, backoff capped at 5 s so recovery is
 * quick; room for the 10 000-observation burst on top of what may be queued already. While the collector fails the
 * relay answers 503 with Retry-After 2 s, which paces the retries instead of the backoff, and every such answer is
 * an attempt: 100 attempts carry the page through an outage of about 3 minutes (past that, records are dropped
 * "retries exhausted", and the dashboard says so).
 */
function newClient() {
  return outboxLib.createOutbox({
    relay: RELAY,
    publicKey: PUBLIC_KEY,
    environment: 'demo',
    release: 'outbox-demo',
    flushAt: 15,
    flushInterval: 1,
    maxQueueEvents: 30_000,
    retry: { initialDelayMs: 500, maxDelayMs: 5000, maxAttempts: 100 },
    onDrop: ({ reason, count, detail }) => log(`dropped ${count} record(s): ${reason}${detail ? ` — ${detail}` : ''}`),
    onError: (err) => log(`error: ${err.message}`),
  });
}

let outbox = newClient();
/** One chat session per page load; each turn is a trace in it. */
const sessionId = `demo-session-${Math.random().toString(36).slice(2, 8)}`;
let turns = 0;
let lastTraceId = '';
setText('relay-url', RELAY);
const chat = (count) => {
  for (let i = 0; i < count; i++) lastTraceId = recordChatTurn(outbox, { n: ++turns, sessionId, userId: 'demo-user' });
  log(`recorded ${count} chat turn(s): ${count * 3} observations, ${count} score(s)`);
};
wireLlmChat(() => outbox, log);
$('turn1').addEventListener('click', () => chat(1));
$('turn100').addEventListener('click', () => chat(100));
$('burst').addEventListener('click', () => {
  const traces = recordBurst(outbox, 10_000);
  log(`recorded a burst: ${traces} traces, ${traces * 4} observations`);
});
$('score-last').addEventListener('click', () => {
  if (!lastTraceId) return log('no trace yet: record a chat turn first');
  const id = outbox.score({ name: 'user-feedback', value: 1, dataType: 'BOOLEAN', comment: 'thumbs up', traceId: lastTraceId });
  log(id ? `scored trace ${lastTraceId.slice(0, 8)}…: user-feedback = 1` : 'the score was dropped (see above)');
});
$('flush').addEventListener('click', async () => {
  log('flush…');
  await outbox.flush();
  log('flush resolved');
});
$('shutdown').addEventListener('click', async () => {
  log('shutdown…');
  await outbox.shutdown();
  log('shut down: later observations and scores are dropped with reason "shutdown"');
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

// The demo Worker (npm run demo:worker): each call is one request it traces with withOutbox.
if (workerUrl) {
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

// The relay mounted on this origin: its counters (GET /control/relay). With ?worker= the page uses the Worker's.
async function renderRelay() {
  if (workerUrl) return;
  const r = await fetch('/control/relay', { cache: 'no-store' }).then((res) => (res.ok ? res.json() : null), () => null);
  if (!r) return;
  for (const key of ['received', 'forwarded', 'duplicates', 'upstreamFailures', 'heldBack']) setText(`r-${key}`, r[key]);
  const rejected = Object.entries(r.rejected ?? {}).map(([reason, n]) => `${reason} ${n}`).join(', ');
  setText('r-rejected', rejected || '0');
}
if (workerUrl) setText('relay-where', `(in the Worker, ${workerUrl}/lf: its counters stay there)`);
setInterval(renderRelay, TICK_MS);
renderRelay();

// Collector side: pushed over SSE.
const feed = createEventFeed(10);
const tracesPanel = createTracesPanel($('traces'));
watchCollectorStats(
  async (stats) => {
    stored = stats.observationsStored + stats.scoresStored;
    for (const key of ['requests', 'eventsReceived', 'eventsStored', 'duplicates', 'invalidEvents', 'refusedEvents', 'spansReceived', 'observationsStored', 'spanDuplicates', 'tracesStored', 'scoresStored']) {
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

// The service worker, when dist/outbox-sw.js exists (?sw=off to run without it). It takes over what the page
// could not deliver on the ingestion path — here, the scores sent to the relay's /lf/api/public/ingestion — and
// replays it. outbox/sw reads and rewrites ingestion batches only, so spans (the OTLP path) stay with the page's
// own retries and IndexedDB queue.
let replayedBySw = 0;
watchServiceWorker((data) => {
  if (data?.type === SW_DELIVERED) {
    replayedBySw += Number(data.count) || 0;
    setText('c-swDelivered', replayedBySw);
    log(`service worker delivered ${Number(data.count) || 0} score(s) from its queue`);
  } else if (data?.type === SW_DROPPED) {
    log(`service worker dropped ${Number(data.count) || 0} score(s)${data.reason ? `: ${String(data.reason)}` : ''}`);
  }
});
setUpServiceWorker({ enabled: params.get('sw') !== 'off', endpoint: new URL(`${RELAY}/api/public/ingestion`, location.href).href }).then(
  (state) => setText('c-sw', state),
  (err) => setText('c-sw', `registration failed: ${err?.message ?? err}`),
);
setText('client-mode', typeof outboxLib.durableStorageOf === 'function' ? '(IndexedDB queue)' : '(memory queue)');

// The demo page: tracks events through the built package and shows both sides' counters.
import { createOutbox } from '/dist/outbox.browser.js';

const outbox = createOutbox({ endpoint: '/api/public/ingestion', publicKey: 'pk-demo', flushAt: 15, flushInterval: 1 });
let n = 0;
const track = (count) => {
  for (let i = 0; i < count; i++) outbox.track('demo-click', { n: ++n, at: new Date().toISOString() });
};
document.getElementById('track1').addEventListener('click', () => track(1));
document.getElementById('track100').addEventListener('click', () => track(100));
document.getElementById('flush').addEventListener('click', () => void outbox.flush());

/** Fills a table with rows built by textContent only: every value is escaped. */
function rows(table, entries) {
  table.replaceChildren(
    ...entries.map(([k, v]) => {
      const tr = document.createElement('tr');
      for (const cell of [k, v]) {
        const td = document.createElement('td');
        td.textContent = typeof cell === 'object' ? JSON.stringify(cell) : String(cell);
        tr.append(td);
      }
      return tr;
    }),
  );
}

async function refresh() {
  const s = outbox.stats();
  rows(document.getElementById('client'), [
    ['queued', s.queued], ['in flight', s.inflight], ['sent', s.sent], ['retried', s.retried],
    ['dropped', s.dropped], ['last flush', s.lastFlushReason ?? '—'], ['last error', s.lastError ?? '—'],
  ]);
  try {
    const stats = await (await fetch('/control/stats')).json();
    rows(document.getElementById('collector'), Object.entries(stats));
    const { events } = await (await fetch('/control/events?limit=100000')).json();
    const body = document.querySelector('#events tbody');
    body.replaceChildren(
      ...events.slice(-10).reverse().map((e) => {
        const tr = document.createElement('tr');
        for (const v of [e.seq, e.type, e.id, JSON.stringify(e.body)]) {
          const td = document.createElement('td');
          td.textContent = String(v);
          tr.append(td);
        }
        return tr;
      }),
    );
  } catch {
    /* collector restarting */
  }
}
setInterval(refresh, 500);
refresh();

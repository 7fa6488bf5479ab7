// The script-tag page: a classic script, no modules. It uses the `window.outbox` that outbox.global.js creates
// from the tag's data-* attributes, or, with a build that only exposes `window.Outbox`, creates the client from
// the same attributes itself.
(function () {
  'use strict';
  var tag = document.querySelector('script[data-endpoint]');
  var d = tag.dataset;
  var created = !window.outbox;
  if (created && !(window.Outbox && window.Outbox.createOutbox)) {
    document.getElementById('origin').textContent =
      '(this dist/outbox.global.js exposes neither window.outbox nor window.Outbox: rebuild with npm run build)';
    return;
  }
  var outbox =
    window.outbox ||
    window.Outbox.createOutbox({
      endpoint: d.endpoint,
      publicKey: d.publicKey,
      flushAt: Number(d.flushAt),
      flushInterval: Number(d.flushInterval),
    });
  if (created) window.outbox = outbox;
  document.getElementById('origin').textContent = created ? '(created from window.Outbox)' : '(window.outbox from the tag)';

  var n = 0;
  function track(count) {
    for (var i = 0; i < count; i++) outbox.track('script-click', { n: ++n, page: 'script.html' });
  }
  document.getElementById('track1').addEventListener('click', function () { track(1); });
  document.getElementById('track100').addEventListener('click', function () { track(100); });
  document.getElementById('flush').addEventListener('click', function () { outbox.flush(); });

  /** textContent only: values are data, never markup. */
  function set(id, value) {
    document.getElementById(id).textContent = value === undefined || value === null ? '—' : String(value);
  }
  function refresh() {
    var s = outbox.stats();
    ['tracked', 'queued', 'inflight', 'sent', 'retried', 'lastFlushReason'].forEach(function (k) { set('c-' + k, s[k]); });
  }
  setInterval(refresh, 500);
  refresh();
  var source = new EventSource('/control/stream');
  source.addEventListener('stats', function (e) {
    var stats = JSON.parse(e.data);
    set('s-eventsStored', stats.eventsStored);
    set('s-requests', stats.requests);
  });
})();

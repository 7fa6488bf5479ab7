// The script-tag page: a classic script, no modules. It uses the `window.outbox` that outbox.global.js creates
// from the tag's data-* attributes, or, with a build that only exposes `window.Outbox`, creates the client from
// the same attributes itself.
(function () {
  'use strict';
  var tag = document.querySelector('script[data-relay]');
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
      relay: d.relay,
      publicKey: d.publicKey,
      flushAt: Number(d.flushAt),
      flushInterval: Number(d.flushInterval),
    });
  if (created) window.outbox = outbox;
  document.getElementById('origin').textContent = created ? '(created from window.Outbox)' : '(window.outbox from the tag)';

  var n = 0;
  /** One turn: a `script-chat` trace of a span holding a generation. */
  function turn() {
    var question = 'Question ' + ++n + ' from script.html';
    var root = outbox.startObservation('script-turn', { input: { question: question } }, {
      trace: { name: 'script-chat', sessionId: 'script-demo-session', tags: ['demo', 'script-tag'] },
    });
    var generation = root.startObservation('answer', {
      model: 'gpt-4o-mini',
      input: [{ role: 'user', content: question }],
    }, { asType: 'generation' });
    generation.update({ output: { role: 'assistant', content: 'Answer ' + n }, usageDetails: { input: 12, output: 3 } });
    generation.end();
    root.update({ output: { answer: 'Answer ' + n } });
    root.end();
  }
  function turns(count) {
    for (var i = 0; i < count; i++) turn();
  }
  document.getElementById('turn1').addEventListener('click', function () { turns(1); });
  document.getElementById('turn100').addEventListener('click', function () { turns(100); });
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
    set('s-observationsStored', stats.observationsStored);
    set('s-scoresStored', stats.scoresStored);
    set('s-requests', stats.requests);
  });
})();

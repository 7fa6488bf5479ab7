// The stub snippet (README "Script tag"), shipped minified as dist/outbox-stub.js for pages whose CSP forbids
// inline scripts. Until dist/outbox.global.js loads, `outbox.track()` records each call with Date.now() and
// `outbox.score()` each score;
// flush()/shutdown() return promises that settle once the real client has done them.
(function (w) {
  if (w.outbox) return;
  var q = [];
  function later(m) {
    return function () {
      return new Promise(function (r) {
        q.push([m, r]);
      });
    };
  }
  w.outbox = {
    q: q,
    track: function (t, b, o) {
      q.push(['track', t, b, o, Date.now()]);
    },
    score: function (s) {
      q.push(['score', s]);
    },
    flush: later('flush'),
    shutdown: later('shutdown'),
  };
})(window);

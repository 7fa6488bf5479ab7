// Runs in the page's head, before dist/outbox.global.js has loaded: the stub (dist/outbox-stub.js) records this
// call, and the library replays it once it creates the real window.outbox. A score needs a trace, a session or a
// dataset run; this one is on the demo's script-page session.
window.outbox.score({ name: 'script-page-visit', value: 1, dataType: 'BOOLEAN', sessionId: 'script-demo-session' });

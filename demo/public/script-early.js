// Runs in the page's head, before dist/outbox.global.js has loaded: the stub (dist/outbox-stub.js) records this
// call, and the library replays it, with its original timestamp, once it creates the real window.outbox.
window.outbox.track('script-page-view', { page: 'script.html', early: true });

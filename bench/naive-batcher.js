// The reference the burst benchmark compares Outbox with: the batcher an app writes by hand in 40 lines. An array,
// a fetch of 50 events (or whatever is there after 1 s), Langfuse's ingestion envelope. No storage, no retry, no
// unload path, no bounds: what it does not do is what it saves. Loaded into the bench page as an ES module.

/**
 * @param {{ endpoint: string, publicKey: string, batchSize?: number, intervalMs?: number }} options
 *   batchSize default 50 events, intervalMs default 1000
 */
export function createNaiveBatcher({ endpoint, publicKey, batchSize = 50, intervalMs = 1000 }) {
  let queue = [];
  let timer = null;
  const stats = { tracked: 0, sent: 0, failed: 0, requests: 0, inflight: 0 };

  function send() {
    clearTimeout(timer);
    timer = null;
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    const body = JSON.stringify({ batch, metadata: { sdk_name: 'naive-batcher', batch_size: batch.length } });
    stats.requests++;
    stats.inflight += batch.length;
    fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${publicKey}` }, body })
      .then((res) => (res.ok ? (stats.sent += batch.length) : (stats.failed += batch.length)))
      .catch(() => (stats.failed += batch.length))
      .finally(() => (stats.inflight -= batch.length));
  }

  function track(type, body) {
    stats.tracked++;
    queue.push({ id: crypto.randomUUID(), type, timestamp: new Date().toISOString(), body });
    if (queue.length >= batchSize) send();
    else if (timer === null) timer = setTimeout(send, intervalMs);
  }

  return { track, flush: send, stats: () => ({ ...stats, queued: queue.length }) };
}

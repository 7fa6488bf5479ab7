import type { StoredEvent } from '../core/types';
import type { IndexedDbStorage } from '../storage/indexeddb';
import { takeAcks } from '../storage/acks';
import { SETTLE_MESSAGE_TYPE } from '../wire/sw-messages';
import type { AskRelay } from './receipts';
import { controlled } from './page-transport';

/** How long a recovering page waits for its worker's first answer (an old worker, or none of ours, never answers). */
const WORKER_ANSWER_MS = 2000;
/** How long it waits for the forwards the worker has under way (a request's own timeout bounds them too). */
const SETTLE_WAIT_MS = 10_000;

/**
 * Recovered records less those already settled, which are removed from storage instead of sent again: those the
 * service worker acknowledged after their page was gone (storage/acks.ts), then, with a relay, those the relay's
 * receipts say it took (a request whose answer nobody saw: a crash, a worker that died forwarding it, a page that
 * left). The worker is asked first whether it is still forwarding any of them (a page that crashed leaves no mark,
 * and its last requests may still be on their way): if so, this waits until they are answered and acknowledged.
 * Any failure keeps the records (a duplicate, never a loss).
 */
export async function withoutAcked(store: Pick<IndexedDbStorage, 'remove'>, records: StoredEvent[], relay?: AskRelay): Promise<StoredEvent[]> {
  if (records.length === 0) return records;
  let settled = new Set<string>();
  if (controlled()) {
    try {
      await askWorker(records.map((r) => r.id));
      settled = await takeAcks(records.map((r) => r.id));
    } catch {
      /* asked of the relay, or resent */
    }
  }
  if (relay) {
    const taken = await relay(records.filter((r) => !settled.has(r.id))).catch(() => undefined);
    if (typeof taken === 'object') for (const id of taken) settled.add(id);
  }
  if (settled.size === 0) return records;
  store.remove([...settled]).catch(() => undefined);
  return records.filter((r) => !settled.has(r.id));
}

/** Resolves once the controlling worker says it forwards none of `ids`, or has finished those; bounded, never rejects. */
function askWorker(ids: string[]): Promise<void> {
  const worker = navigator.serviceWorker?.controller;
  if (!worker) return Promise.resolve();
  const channel = new MessageChannel();
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new Promise<void>((resolve) => {
    timer = setTimeout(resolve, WORKER_ANSWER_MS);
    channel.port1.onmessage = (event) => {
      if (event.data === true) return resolve();
      clearTimeout(timer); // it forwards some of them now: wait for those
      timer = setTimeout(resolve, SETTLE_WAIT_MS);
    };
    worker.postMessage({ type: SETTLE_MESSAGE_TYPE, ids }, [channel.port2]);
  }).finally(() => (clearTimeout(timer), channel.port1.close()));
}

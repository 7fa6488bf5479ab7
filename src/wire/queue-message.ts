// The Cloudflare Queues message format, shared by the two sides that use it: the relay (outbox/relay: beacons and
// forwarded bodies) and the Workers client's queue hand-off (transport/queue-handoff.ts) put messages on the
// queue; the relay's consumer (outboxQueueConsumer) reads them back.
import type { WireName } from '../core/types';

/** A Cloudflare Queues producer binding, typed by the two calls Outbox makes (`env.OUTBOX_QUEUE`). */
export interface QueueProducer {
  send(body: unknown, options?: { contentType?: string }): Promise<unknown>;
  sendBatch(messages: Iterable<{ body: unknown; contentType?: string }>): Promise<unknown>;
}

/** Cloudflare Queues limits (https://developers.cloudflare.com/queues/platform/limits/), with room for the envelope. */
export const QUEUE_LIMITS = {
  /** A message is at most 128 KB; the relay's payload stays under this. */
  messageBytes: 120_000,
  /** A sendBatch carries at most 100 messages … */
  batchMessages: 100,
  /** … and at most 256 KB in total. */
  batchBytes: 240_000,
};

/** What the relay puts on the queue: one upstream request's body, for one wire. */
export interface RelayMessage {
  outbox: 1;
  wire: WireName;
  /** The JSON body to POST upstream (an ExportTraceServiceRequest or an ingestion envelope). */
  payload: unknown;
}

/** True for a message this relay queued. */
export function isRelayMessage(body: unknown): body is RelayMessage {
  const m = body as RelayMessage | null;
  return m !== null && typeof m === 'object' && m.outbox === 1 && (m.wire === 'otlp' || m.wire === 'ingestion') && m.payload !== null && typeof m.payload === 'object';
}

/**
 * Queues bodies (each already ≤ messageBytes) as JSON messages, in as few sendBatch calls as the limits allow.
 * Resolves once every call resolved; rejects with the first failure (then some messages may already be queued:
 * the page resends and the consumer side sees duplicates, never losses).
 */
export async function enqueue(queue: QueueProducer, wire: WireName, bodies: readonly { body: string; bytes: number }[]): Promise<void> {
  let group: { body: RelayMessage; contentType: 'json' }[] = [];
  let bytes = 0;
  const calls: Promise<unknown>[] = [];
  const flush = () => {
    if (group.length === 0) return;
    calls.push(group.length === 1 ? queue.send(group[0]!.body, { contentType: 'json' }) : queue.sendBatch(group));
    group = [];
    bytes = 0;
  };
  for (const b of bodies) {
    const size = b.bytes + 40;
    if (group.length >= QUEUE_LIMITS.batchMessages || bytes + size > QUEUE_LIMITS.batchBytes) flush();
    group.push({ body: { outbox: 1, wire, payload: JSON.parse(b.body) }, contentType: 'json' });
    bytes += size;
  }
  flush();
  await Promise.all(calls);
}

import { errorText } from '../core/errors';
import type { OutgoingBatch, SendResult, Transport } from '../core/types';
import { QUEUE_LIMITS, enqueue, type QueueProducer } from '../wire/queue-message';

/**
 * Workers with a Cloudflare Queues producer: a batch whose send failed transiently (Langfuse down, a 429 longer
 * than the waitUntil budget, a timeout) is put on the queue — the same message format the relay uses — instead of
 * waiting for a retry the invocation will not live to make; `outboxQueueConsumer` delivers it later with retries.
 * Once the queue took it, the batch counts as handed off. If the queue refuses too, the original failure stands.
 */
export function withQueueHandoff(transport: Transport, queue: QueueProducer, report: (error: Error) => void): Transport {
  return {
    async send(batch: OutgoingBatch): Promise<SendResult> {
      const result = await transport.send(batch);
      if (result.kind !== 'retry') return result;
      // A body over a message's limit is split by the core (as for a 413) and the halves tried again.
      if (batch.bytes > QUEUE_LIMITS.messageBytes) return batch.events.length > 1 ? { kind: 'too-large' } : result;
      try {
        await enqueue(queue, batch.wire.name, [{ body: batch.body, bytes: batch.bytes }]);
        return { kind: 'handed-off' };
      } catch (error) {
        report(new Error(`queue hand-off failed; the batch stays for a retry: ${errorText(error)}`));
        return result;
      }
    },
  };
}

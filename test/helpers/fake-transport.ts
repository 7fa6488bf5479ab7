import type { OutgoingBatch, SendResult, Transport } from '../../src/core/types';

/** A scripted transport: records every batch and answers with `answer(batch, n)` (default ok). */
export function createFakeTransport(answer: (batch: OutgoingBatch, n: number) => SendResult | Promise<SendResult> = () => ({ kind: 'ok' })) {
  const batches: OutgoingBatch[] = [];
  const transport: Transport & { batches: OutgoingBatch[]; ids(): string[] } = {
    batches,
    async send(batch) {
      batches.push(batch);
      return answer(batch, batches.length);
    },
    ids: () => batches.flatMap((b) => b.events.map((e) => e.id)),
  };
  return transport;
}

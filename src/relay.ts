/**
 * `outbox/relay`: a fetch handler on the app's own origin that takes what pages send on Langfuse's two paths
 * (OTLP traces, ingestion scores; JSON, gzip, `text/plain` beacons with `?pk=`), validates every record, forwards
 * it with the secret key the relay holds, and answers with what the upstream (or a Cloudflare queue) accepted.
 */
export { createRelay, type Relay } from './relay/handler';
export type { RelayStats, RejectReason } from './relay/stats';
export { toNodeListener, type NodeListenerOptions, type NodeRequest, type NodeResponse } from './relay/node';
export { OutboxDedup } from './relay/dedup-object';
export { outboxQueueConsumer, type QueueBatch, type QueueConsumer, type QueueConsumerOptions, type QueueConsumerStats, type QueueMessage } from './relay/consumer';
export {
  RELAY_DEFAULTS,
  RelayOptionsError,
  type DedupNamespace,
  type QueueProducer,
  type RelayContext,
  type RelayLimits,
  type RelayOptions,
  type UpstreamOptions,
} from './relay/options';

/// <reference lib="webworker" />
/**
 * Service-worker entry (`outbox/sw`): hand-off and replay of batches the page could not deliver, over
 * `workbox-background-sync` (src/sync/).
 */
export { installOutboxSync, type OutboxSync, type OutboxSyncOptions, type SwDropInfo, type SwDropReason } from './sync/replay';
export { DELIVERED_MESSAGE_TYPE, DROPPED_MESSAGE_TYPE, REPLAY_MESSAGE_TYPE } from './wire/sw-messages';

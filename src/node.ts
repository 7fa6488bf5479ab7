/**
 * Node entry (`outbox` under the "node" condition): memory queue, fetch transport, options also read from
 * `process.env`. Touches no browser global.
 */
import { assemble } from './create';
import { optionsFromEnv, type OutboxOptions } from './core/options';
import type { Outbox } from './trace/types';

export type { OutboxOptions } from './core/options';
export type { DropInfo, DropReason, OutboxStats, TrackOptions } from './core/types';
export type { Outbox } from './trace/types';
export { OutboxOptionsError } from './core/options';

/** Creates a client. Throws OutboxOptionsError for invalid options (and only then). */
export function createOutbox(options: Partial<OutboxOptions> = {}): Outbox {
  const env = (globalThis as { process?: { env?: Record<string, unknown> } }).process?.env;
  return assemble(options, { fromEnv: optionsFromEnv(env) }).outbox;
}

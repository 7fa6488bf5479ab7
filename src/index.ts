/**
 * Browser entry (`outbox`): memory queue with the fetch transport; relative endpoints resolve against the
 * page. A secret key is refused here: anything shipped to a page is public.
 */
import { assemble } from './create';
import { OutboxOptionsError, type OutboxOptions } from './core/options';
import type { Outbox } from './core/types';

export type { OutboxOptions } from './core/options';
export type { DropInfo, DropReason, Outbox, OutboxStats, TrackOptions } from './core/types';
export { OutboxOptionsError } from './core/options';

/** Creates a client. Throws OutboxOptionsError for invalid options (and only then). */
export function createOutbox(options: OutboxOptions): Outbox {
  const baseUrl = typeof location !== 'undefined' ? location.href : undefined;
  return assemble(options, {
    baseUrl,
    check(o) {
      if (o.secretKey !== undefined) {
        throw new OutboxOptionsError(
          'createOutbox: invalid options: secretKey must not be used in a browser page (it would be public); use publicKey here and keep secretKey on a server or Worker',
        );
      }
    },
  }).outbox;
}

import { createClient, type Platform } from '../../src/core/client';
import { resolveOptions, type OutboxOptions } from '../../src/core/options';
import { createUuid } from '../../src/core/uuid';
import { authHeaders } from '../../src/transport/fetch';
import { createIngestionWire } from '../../src/wire/ingestion';
import type { DropInfo } from '../../src/core/types';
import { createFakeClock } from './fake-clock';
import { createFakeTransport } from './fake-transport';

/** A core client on a fake clock and a scripted transport, with every onDrop/onError call recorded. */
export function makeClient(options: Partial<OutboxOptions> = {}, platform: Partial<Platform> = {}, answer?: Parameters<typeof createFakeTransport>[0]) {
  const clock = createFakeClock();
  const transport = createFakeTransport(answer);
  const drops: DropInfo[] = [];
  const errors: Error[] = [];
  const resolved = resolveOptions(
    { endpoint: 'http://collector.test/api/public/ingestion', onDrop: (i: DropInfo) => drops.push(i), onError: (e: Error) => errors.push(e), ...options },
    undefined,
  );
  const wires = { ingestion: createIngestionWire({ url: resolved.endpoint!, headers: authHeaders(resolved.publicKey, resolved.secretKey), metadata: resolved.metadata }) };
  const { outbox, hooks } = createClient(resolved, { clock, transport, wires, uuid: createUuid(), random: () => 0.5, ...platform });
  const dropCount = (reason: string) => drops.filter((d) => d.reason === reason).reduce((n, d) => n + d.count, 0);
  return { outbox, hooks, clock, transport, drops, errors, dropCount };
}

import { createClient, type ClientHooks, type Platform } from './core/client';
import { systemClock } from './core/clock';
import { OutboxOptionsError, resolveOptions, type ResolvedOptions } from './core/options';
import { createUuid } from './core/uuid';
import type { Outbox } from './core/types';
import { authHeaders, createFetchTransport } from './transport/fetch';
import { createIngestionWire } from './wire/ingestion';

/** What an entry decides: where options come from and which platform parts to plug in. */
export interface EntrySetup {
  /** Environment object to read OUTBOX_* / LANGFUSE_* from. */
  env?: Record<string, unknown>;
  /** Base URL for a relative endpoint (a page's location). */
  baseUrl?: string;
  /** Entry-specific option keys (zod/mini shape) accepted on top of the shared ones. */
  extraShape?: Record<string, any>;
  /** Throw for options this entry refuses (e.g. secretKey in a page). */
  check?: (options: ResolvedOptions & Record<string, unknown>) => void;
  /** Platform parts besides the fetch transport and the wires, given the resolved options. */
  platform?: (options: ResolvedOptions & Record<string, unknown>) => Partial<Platform>;
}

/** Validates options, builds the wires, the fetch transport and the client. Throws OutboxOptionsError only. */
export function assemble(input: unknown, setup: EntrySetup): { outbox: Outbox; hooks: ClientHooks } {
  const options = resolveOptions(input, setup.env, setup.extraShape) as ResolvedOptions & Record<string, unknown>;
  try {
    options.endpoint = new URL(options.endpoint, setup.baseUrl).href;
  } catch {
    throw new OutboxOptionsError(`createOutbox: invalid options: endpoint must be a URL${setup.baseUrl ? '' : ' (absolute here)'}, got "${options.endpoint}"`);
  }
  setup.check?.(options);
  const extra = setup.platform?.(options) ?? {};
  const headers = { ...authHeaders(options.publicKey, options.secretKey), ...options.headers };
  const wires = extra.wires ?? { ingestion: createIngestionWire({ url: options.endpoint, headers, metadata: options.metadata }) };
  const transport = extra.transport ?? createFetchTransport({ timeoutMs: options.requestTimeoutMs, compression: options.compression });
  return createClient(options, { clock: systemClock, uuid: createUuid(), ...extra, wires, transport });
}

/** Runs detach functions in reverse order of attachment, each once; one that throws does not stop the others. */
export function detachChain(): { add(detach: () => void): void; run(): void } {
  const list: (() => void)[] = [];
  return {
    add: (detach) => void list.push(detach),
    run() {
      for (const detach of list.splice(0).reverse()) {
        try {
          detach();
        } catch {
          /* each undoes only what it did */
        }
      }
    },
  };
}

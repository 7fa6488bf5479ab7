// The doors into the client (STYLE 15): each part above the core gets the one it needs. createClient (client.ts)
// builds them over its own state; nothing here holds state.
import type { ResolvedOptions } from './options';
import type { FlushReason, SendResult, StoredEvent, Wire, WireName } from './types';

/** A record handed to the client by an API on top of it (observations, scores, an OTel processor). */
export interface NewRecord {
  id: string;
  type: string;
  /** Epoch ms. */
  ts: number;
  body: unknown;
  wire: WireName;
}

/** The door the unload path uses into the client. */
export interface LeaveHooks {
  readonly options: ResolvedOptions;
  /** The wires, to encode unload bodies exactly as normal sends. */
  readonly wires: Partial<Record<WireName, Wire>>;
  /** Seals pending records, then removes and returns every queued record and formed retry batch, oldest first. */
  takeQueued(): StoredEvent[];
  /**
   * Seals pending records, then removes and returns the oldest queued records of one wire whose lines fit
   * `room(wire)` body bytes (envelope included), leaving the rest queued; undefined when nothing fits. Costs only
   * the records it takes.
   */
  takeFront(room: (wire: Wire) => number): { wire: Wire; events: StoredEvent[] } | undefined;
  /** Records queued (not in a request). */
  queuedCount(): number;
  /** Ids of the records in a request now. */
  inflightIds(): string[];
  /** Puts records back at the front (an unload send that did not fit). */
  putBack(events: StoredEvent[]): void;
  /**
   * Reports records as acknowledged by a path outside the client (a beacon). `keepStored`: count them but leave
   * them in storage (the caller marked them with `markSent`), so a later load resends them after the grace period.
   */
  settle(events: StoredEvent[], how: 'sent' | 'handed-off', keepStored?: boolean): void;
  /** The answer to a send made outside the client (an unload keepalive fetch), handled as a normal answer. */
  answer(events: StoredEvent[], result: SendResult): void;
  /** Start sending now, backoff or not (the page is shown again, the network is back). */
  kick(reason: FlushReason): void;
}

/** The door the durable queue uses into the client. */
export interface RecoveryHooks {
  readonly options: ResolvedOptions;
  /** Every sealed record the client still holds (queued, retrying or in a request), oldest first; nothing is taken. */
  held(): StoredEvent[];
  /** Queues records recovered from storage. */
  enqueueRecovered(events: StoredEvent[]): void;
  /** Records that may still be queued before maxQueueEvents. */
  room(): number;
  kick(reason: FlushReason): void;
}

/** Every door into the client; entries hand each part only the one it needs. */
export interface ClientHooks extends LeaveHooks, RecoveryHooks {
  readonly options: ResolvedOptions;
  /** Queues a record built by a layer above (`track` is the ingestion form of it). Returns false if dropped. */
  push(record: NewRecord): boolean;
  /** Drops input before it became a record (an invalid score), counted as tracked and reported like any drop. */
  dropInput(reason: 'invalid' | 'too-large', records: { id: string; type: string }[], detail: string): void;
  /** The report's debug log. */
  log(...args: unknown[]): void;
  warnOnce(key: string, message: string): void;
}


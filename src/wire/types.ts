import type { QueuedEvent, SendResult, StoredEvent } from '../core/types';

/** The wire a record travels on. A batch never mixes wires. */
export type WireName = 'ingestion' | 'otlp';

/** What a wire reads of an HTTP answer; a fetch `Response` fits. */
export interface Answer {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/**
 * A wire turns a batch of records of one kind into a request (URL, headers, body) and an answer into a
 * SendResult. Wires touch no platform global; transports (fetch, unload, service worker) do the I/O.
 */
export interface Wire {
  readonly name: WireName;
  /** Absolute URL every batch of this wire is POSTed to. */
  readonly url: string;
  /** Headers of every request: Content-Type, Authorization, the user's `headers`. */
  readonly headers: Record<string, string>;
  /** True when the receiver takes `Content-Encoding: gzip` (never Langfuse's /ingestion). */
  readonly gzip: boolean;
  /** Upper bound, in bytes, of the envelope `encodeBatch` puts around the record lines. */
  readonly envelopeBytes: number;
  /**
   * One record's wire line (JSON text) from its body; throws on what JSON cannot carry (circular, BigInt) and
   * returns undefined for a body that serializes to nothing.
   */
  encodeRecord(record: QueuedEvent): string | undefined;
  /** The request body for sealed records (their `line`s), in order. */
  encodeBatch(batchId: string, records: StoredEvent[]): string;
  /**
   * What an answer means for the batch whose record ids are `ids`. Rejects only when a body it must read cannot
   * be read (a stalled or aborted response); senders map that to a network retry.
   */
  answer(response: Answer, ids: string[], now: number): Promise<SendResult>;
}

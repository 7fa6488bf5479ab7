import { chunkIngestion, encodeIngestion, parseIngestion, type EventError, type IngestionEvent } from './ingestion';
import type { RelayLimits } from './options';
import { chunkOtlp, filterOtlp, parseOtlp, type OtlpRequest } from './otlp';
import type { RelayWire } from './upstream';

/** A parsed request reduced to what forwarding needs: record keys, how to encode a subset, per-event refusals. */
export interface Records {
  wire: RelayWire;
  /** Dedup key of every record, in order, repeats included. */
  keys: string[];
  /** Event id of each key (ingestion), for 207 answers; OTLP has no per-record answers. */
  idOf: (key: string) => string;
  errors: EventError[];
  /** The upstream body carrying the first record of each of these keys. */
  encode(keep: ReadonlySet<string>): string;
  /** The same as bodies of ≤ maxBytes each (queue messages); undefined when one record alone is larger. */
  chunk(keep: ReadonlySet<string>, maxBytes: number): { body: string; keys: string[] }[] | undefined;
}

/** Ingestion ids and span keys share the dedup window; this prefix keeps them apart. */
export const EVENT_KEY = 'event:';

/** Validates a parsed JSON body for its wire and wraps it as Records; a message names the first problem of a bad request. */
export function parseRecords(wire: RelayWire, json: unknown, o: { limits: RelayLimits; allowEventTypes: readonly string[] }): Records | { message: string } {
  if (wire === 'otlp') {
    const parsed = parseOtlp(json, o.limits);
    if (!parsed.ok) return { message: parsed.message };
    const request: OtlpRequest = parsed.request;
    return {
      wire,
      keys: parsed.keys,
      idOf: (k) => k,
      errors: [],
      encode: (keep) => JSON.stringify(filterOtlp(request, keep)),
      chunk: (keep, max) => chunkOtlp(filterOtlp(request, keep), max),
    };
  }
  const parsed = parseIngestion(json, o.allowEventTypes, o.limits);
  if (!parsed.ok) return { message: parsed.message };
  const pick = (keep: ReadonlySet<string>): IngestionEvent[] => {
    const left = new Set(keep);
    return parsed.events.filter((e) => left.delete(EVENT_KEY + e.id));
  };
  return {
    wire,
    keys: parsed.events.map((e) => EVENT_KEY + e.id),
    idOf: (k) => k.slice(EVENT_KEY.length),
    errors: parsed.errors,
    encode: (keep) => encodeIngestion(pick(keep), parsed.metadata),
    chunk: (keep, max) => chunkIngestion(pick(keep), parsed.metadata, max)?.map((c) => ({ body: c.body, keys: c.keys.map((id) => EVENT_KEY + id) })),
  };
}


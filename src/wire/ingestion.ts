import { encodeEvent, utf8Length } from '../core/encode';
import { isRetryableStatus } from '../core/retry';
import type { SendResult, StoredEvent, Wire } from '../core/types';
import { bodyText, serverMessage, statusResult } from './answer';

/** SDK identity sent in every batch's metadata. */
export const SDK_NAME = 'outbox';
export const SDK_VERSION = '0.1.0';

/** Builds the request body `{batch, metadata}` from sealed lines; `metadata` is encodeMetadata()'s output. */
export function encodeBatch(batchId: string, events: readonly StoredEvent[], metadata: string): string {
  let lines = '';
  for (let i = 0; i < events.length; i++) lines += (i === 0 ? '' : ',') + events[i]!.line;
  return (
    '{"batch":[' + lines + '],"metadata":{' + metadata + '"batch_id":"' + batchId + '","sdk_name":"' + SDK_NAME +
    '","sdk_version":"' + SDK_VERSION + '","batch_size":' + events.length + '}}'
  );
}

/** Encodes user metadata as members (`"k":v,…`) placed before ours, so ours win; '' when empty. */
export function encodeMetadata(metadata: Record<string, unknown>): string {
  const json = JSON.stringify(metadata);
  return json === '{}' ? '' : json.slice(1, -1) + ',';
}

/**
 * Maps a 207 body to per-event results: ids answered 5xx/429/408 — or not mentioned at all — are retried,
 * other error statuses are permanent rejections; unknown ids are ignored; a success wins over an error.
 */
export function parseMultiStatus(text: string, ids: string[]): SendResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: 'retry', network: false, status: 207, error: '207 with a body that is not JSON' };
  }
  const body = parsed as { successes?: unknown; errors?: unknown };
  if (!body || typeof body !== 'object' || (!Array.isArray(body.successes) && !Array.isArray(body.errors))) {
    return { kind: 'retry', network: false, status: 207, error: '207 without successes/errors arrays' };
  }
  const known = new Set(ids);
  const acked = new Set<string>();
  for (const s of Array.isArray(body.successes) ? body.successes : []) {
    if (s && typeof s === 'object' && typeof (s as { id?: unknown }).id === 'string') acked.add((s as { id: string }).id);
  }
  const rejected = new Map<string, { id: string; status: number; message?: string }>();
  const retry = new Set<string>();
  for (const e of Array.isArray(body.errors) ? body.errors : []) {
    if (!e || typeof e !== 'object') continue;
    const { id, message } = e as { id?: unknown; message?: unknown };
    const status = Number((e as { status?: unknown }).status);
    if (typeof id !== 'string' || !known.has(id) || acked.has(id)) continue;
    if (status >= 200 && status < 300) acked.add(id);
    else if (!Number.isFinite(status) || isRetryableStatus(status)) retry.add(id);
    else rejected.set(id, { id, status, message: typeof message === 'string' ? message.slice(0, 300) : undefined });
  }
  for (const id of ids) if (!acked.has(id) && !rejected.has(id)) retry.add(id);
  for (const id of acked) retry.delete(id);
  if (retry.size === 0 && rejected.size === 0) return { kind: 'ok' };
  return { kind: 'partial', retry: [...retry], rejected: [...rejected.values()] };
}

/** Configuration of the Langfuse ingestion wire. */
export interface IngestionWireConfig {
  /** Absolute URL of `/api/public/ingestion` (or a relay's). */
  url: string;
  /** Authorization and the user's headers. */
  headers: Record<string, string>;
  /** Extra members of every batch's metadata. */
  metadata: Record<string, unknown>;
}

/**
 * The Langfuse ingestion envelope (events and scores): `{batch:[{id,type,timestamp,body}], metadata}`, answered
 * 207 per event. Never gzipped: Langfuse's /ingestion answers a gzipped body 400.
 */
export function createIngestionWire(config: IngestionWireConfig): Wire & { readonly metadata: string } {
  const metadata = encodeMetadata(config.metadata);
  // An empty batch with a 36-character id and a 6-digit size.
  const envelope = utf8Length(encodeBatch('00000000-0000-0000-0000-000000000000', [], metadata)) + 5;
  return {
    name: 'ingestion',
    url: config.url,
    headers: { 'Content-Type': 'application/json', ...config.headers },
    gzip: false,
    envelopeBytes: envelope,
    metadata,
    encodeRecord: encodeEvent,
    encodeBatch: (batchId, records) => encodeBatch(batchId, records, metadata),
    async answer(response, ids, now) {
      if (response.status === 207) return parseMultiStatus(await response.text(), ids); // a stalled body rejects: the sender retries
      const text = response.status >= 300 ? await bodyText(response) : (await bodyText(response), '');
      return statusResult(response.status, response.headers, now, response.status >= 300 ? serverMessage(response.status, text) : '');
    },
  };
}

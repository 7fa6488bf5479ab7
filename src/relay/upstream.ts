import { INGESTION_PATH, OTLP_PATH } from '../core/options';
import { bodyText, serverMessage, statusResult } from '../wire/answer';
import { authHeaders, gzip } from '../transport/fetch';
import { parseMultiStatus } from '../wire/ingestion';
import type { EventError } from './ingestion';
import type { UpstreamOptions } from './options';

/** The two Langfuse routes the relay serves and forwards to. */
export type RelayWire = 'otlp' | 'ingestion';

export const PATHS: Record<RelayWire, string> = { otlp: OTLP_PATH, ingestion: INGESTION_PATH };

/** What the upstream made of one forwarded body. */
export type Delivery =
  /** Taken whole (2xx other than 207); `text`/`contentType` are the upstream's body, passed on to the page. */
  | { kind: 'ok'; status: number; text: string; contentType: string | null }
  /** A 207: which ids were taken, refused for good, or should come again. */
  | { kind: 'multi'; taken: string[]; errors: EventError[]; retry: string[] }
  /** Try again later: 408/429/5xx, a network error, a timeout, or the upstream refusing the relay's own keys. */
  | { kind: 'retry'; status?: number; retryAfterMs?: number; message: string }
  | { kind: 'too-large'; message: string }
  /** A permanent refusal (400 …) of the whole body, with the upstream's words. */
  | { kind: 'rejected'; status: number; message: string };

export interface DeliverOptions {
  upstream: UpstreamOptions;
  fetch: typeof fetch;
  timeoutMs: number;
  now: () => number;
}

/**
 * POSTs one body to the upstream with the relay's keys (Basic pk:sk) and `x-langfuse-ingestion-version: 4`;
 * OTLP gzipped where CompressionStream exists (never /ingestion: Langfuse answers a gzipped envelope 400).
 * Never rejects. `ids` are the ingestion event ids of the body (for reading a 207).
 */
export async function deliver(wire: RelayWire, body: string, ids: readonly string[], o: DeliverOptions): Promise<Delivery> {
  const headers: Record<string, string> = {
    ...authHeaders(o.upstream.publicKey, o.upstream.secretKey),
    'Content-Type': 'application/json',
    'x-langfuse-ingestion-version': '4',
  };
  let payload: string | Uint8Array = body;
  if (wire === 'otlp') {
    const zipped = await gzip(body).catch(() => undefined);
    if (zipped) {
      payload = zipped;
      headers['Content-Encoding'] = 'gzip';
    }
  }
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, o.timeoutMs);
  try {
    const response = await o.fetch(o.upstream.baseUrl.replace(/\/+$/, '') + PATHS[wire], {
      method: 'POST',
      headers,
      body: payload as BodyInit,
      signal: controller.signal,
    });
    const text = await bodyText(response);
    const status = response.status;
    if (status === 207 && wire === 'ingestion') {
      const result = parseMultiStatus(text, [...ids]);
      if (result.kind === 'ok') return { kind: 'multi', taken: [...ids], errors: [], retry: [] };
      if (result.kind === 'partial') {
        const later = new Set([...result.retry, ...result.rejected.map((r) => r.id)]);
        return {
          kind: 'multi',
          taken: ids.filter((id) => !later.has(id)),
          errors: result.rejected.map((r) => ({ id: r.id, status: r.status, message: r.message ?? `HTTP ${r.status}` })),
          retry: result.retry,
        };
      }
      return { kind: 'retry', status, message: result.kind === 'retry' ? result.error : 'unreadable 207' };
    }
    const message = serverMessage(status, text);
    if (status === 401 || status === 403) {
      // The page did nothing wrong: the relay's own keys are refused. Pages keep their records and retry.
      return { kind: 'retry', status, message: `the upstream refused the relay's keys (check LANGFUSE_PUBLIC_KEY/SECRET_KEY): ${message}` };
    }
    const result = statusResult(status, response.headers, o.now(), message);
    switch (result.kind) {
      case 'ok':
      case 'handed-off':
        return { kind: 'ok', status, text, contentType: response.headers.get('Content-Type') };
      case 'too-large':
        return { kind: 'too-large', message };
      case 'retry':
        return { kind: 'retry', status, retryAfterMs: result.retryAfterMs, message };
      case 'rejected':
        return { kind: 'rejected', status, message };
      default:
        return { kind: 'retry', status, message };
    }
  } catch (error) {
    return {
      kind: 'retry',
      message: timedOut ? `upstream timed out after ${o.timeoutMs} ms` : `upstream unreachable: ${String((error as Error)?.message ?? error)}`,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Retry-After seconds for a retry answer: the upstream's (rounded up), else the relay's default. */
export function retryAfterSeconds(delivery: { retryAfterMs?: number }, fallbackSeconds: number): number {
  return delivery.retryAfterMs !== undefined ? Math.max(1, Math.ceil(delivery.retryAfterMs / 1000)) : fallbackSeconds;
}

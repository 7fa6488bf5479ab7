import { isRetryableStatus, parseRetryAfter } from '../core/retry';
import type { OutgoingBatch, SendResult, Transport } from '../core/types';

export interface FetchTransportOptions {
  /** Absolute ingestion URL. */
  endpoint: string;
  /** Request headers besides Content-Type (Authorization, the user's headers). */
  headers: Record<string, string>;
  /** Abort a request after this many ms. */
  timeoutMs: number;
  /** 'gzip' compresses bodies where CompressionStream exists. */
  compression: 'none' | 'gzip';
  /** The fetch to use. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Epoch ms, for Retry-After dates. @default Date.now */
  now?: () => number;
}

/** `Authorization` for the keys: Basic pk:sk when a secret key is given, else Bearer pk, else none. */
export function authHeaders(publicKey?: string, secretKey?: string): Record<string, string> {
  if (publicKey && secretKey) return { Authorization: 'Basic ' + btoa(unescape(encodeURIComponent(`${publicKey}:${secretKey}`))) };
  if (publicKey) return { Authorization: `Bearer ${publicKey}` };
  return {};
}

/** Gzips text with CompressionStream; undefined where the platform lacks it. */
export async function gzip(text: string): Promise<Uint8Array | undefined> {
  if (typeof CompressionStream !== 'function') return undefined;
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
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
    if (s && typeof s === 'object' && typeof (s as any).id === 'string') acked.add((s as any).id);
  }
  const rejected = new Map<string, { id: string; status: number; message?: string }>();
  const retry = new Set<string>();
  for (const e of Array.isArray(body.errors) ? body.errors : []) {
    if (!e || typeof e !== 'object') continue;
    const id = (e as any).id;
    const status = Number((e as any).status);
    if (typeof id !== 'string' || !known.has(id) || acked.has(id)) continue;
    if (status >= 200 && status < 300) acked.add(id);
    else if (!Number.isFinite(status) || isRetryableStatus(status)) retry.add(id);
    else {
      const message = typeof (e as any).message === 'string' ? (e as any).message.slice(0, 300) : undefined;
      rejected.set(id, { id, status, message });
    }
  }
  for (const id of ids) if (!acked.has(id) && !rejected.has(id)) retry.add(id);
  for (const id of acked) retry.delete(id);
  if (retry.size === 0 && rejected.size === 0) return { kind: 'ok' };
  return { kind: 'partial', retry: [...retry], rejected: [...rejected.values()] };
}

/** The normal transport: POST JSON (optionally gzip) with a timeout; every outcome becomes a SendResult. */
export function createFetchTransport(opts: FetchTransportOptions): Transport {
  const now = opts.now ?? Date.now;
  return {
    async send(batch: OutgoingBatch): Promise<SendResult> {
      const doFetch = opts.fetch ?? globalThis.fetch;
      const headers: Record<string, string> = { 'Content-Type': 'application/json', ...opts.headers };
      let body: string | Uint8Array = batch.body;
      if (opts.compression === 'gzip') {
        try {
          const zipped = await gzip(batch.body);
          if (zipped) {
            body = zipped;
            headers['Content-Encoding'] = 'gzip';
          }
        } catch {
          /* send uncompressed */
        }
      }
      const controller = typeof AbortController === 'function' ? new AbortController() : undefined;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller?.abort();
      }, opts.timeoutMs);
      try {
        const response = await doFetch(opts.endpoint, { method: 'POST', headers, body: body as BodyInit, signal: controller?.signal });
        const status = response.status;
        if (status === 207) return parseMultiStatus(await response.text(), batch.events.map((e) => e.id));
        await response.arrayBuffer().catch(() => undefined); // free the connection
        if (status === 202 && response.headers.get('Outbox-Queued') === '1') return { kind: 'handed-off' };
        if (status >= 200 && status < 300) return { kind: 'ok' };
        if (status === 413) return { kind: 'too-large' };
        if (isRetryableStatus(status) || status < 200 || (status >= 300 && status < 400)) {
          return {
            kind: 'retry',
            network: false,
            status,
            retryAfterMs: parseRetryAfter(response.headers.get('Retry-After'), now()),
            error: `HTTP ${status}`,
          };
        }
        return { kind: 'rejected', status, error: `HTTP ${status}` };
      } catch (error) {
        const message = timedOut ? `request timed out after ${opts.timeoutMs} ms` : `network error: ${errorMessage(error)}`;
        return { kind: 'retry', network: true, error: message };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** The message of whatever a fetch rejected with; a custom fetch may reject with a non-Error that String() can't print. */
function errorMessage(error: unknown): string {
  try {
    return String((error as Error)?.message ?? error);
  } catch {
    return 'unprintable error';
  }
}

import { errorText } from '../core/errors';
import type { OutgoingBatch, SendResult, Transport } from '../core/types';

export interface FetchTransportOptions {
  /** Abort a request after this many ms. */
  timeoutMs: number;
  /** 'gzip' compresses every body; 'auto' only toward wires whose receiver gunzips; both where CompressionStream exists. */
  compression: 'none' | 'gzip' | 'auto';
  /** The fetch to use. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Epoch ms, for Retry-After dates. @default Date.now */
  now?: () => number;
  /**
   * Asked once per request with its body bytes: a release function means "send it with `keepalive: true`" (it
   * fits the document's keepalive budget, so it completes even if the page goes away), called when the answer has
   * arrived or the request failed. @default none: no keepalive
   */
  keepalive?: (bytes: number) => (() => void) | undefined;
  /**
   * Gzips a body (undefined: send it uncompressed). The Node entry passes node:zlib's, which costs the caller's
   * thread less than pumping the body through CompressionStream's web streams. @default gzip (CompressionStream)
   */
  gzip?: (text: string) => Promise<Uint8Array | undefined>;
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

/** The normal transport: POST the wire's body with its headers (optionally gzip) and a timeout; never rejects. */
export function createFetchTransport(opts: FetchTransportOptions): Transport {
  const now = opts.now ?? Date.now;
  return {
    async send(batch: OutgoingBatch): Promise<SendResult> {
      const { wire } = batch;
      const doFetch = opts.fetch ?? globalThis.fetch;
      const headers: Record<string, string> = { ...wire.headers };
      let body: string | Uint8Array = batch.body;
      if (opts.compression === 'gzip' || (opts.compression === 'auto' && wire.gzip)) {
        try {
          const zipped = await (opts.gzip ?? gzip)(batch.body);
          if (zipped) {
            body = zipped;
            headers['Content-Encoding'] = 'gzip';
          }
        } catch {
          /* send uncompressed */
        }
      }
      const release = opts.keepalive?.(typeof body === 'string' ? batch.bytes : body.byteLength);
      const controller = typeof AbortController === 'function' ? new AbortController() : undefined;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller?.abort();
      }, opts.timeoutMs);
      try {
        // `keepalive` is a page concern (the Workers types lack it): set only when the page's budget reserved it.
        const init = { method: 'POST', headers, body: body as BodyInit, signal: controller?.signal, ...(release ? { keepalive: true } : {}) } as RequestInit;
        const response = await doFetch(wire.url, init);
        return await wire.answer(response, batch.events.map((e) => e.id), now());
      } catch (error) {
        const message = timedOut ? `request timed out after ${opts.timeoutMs} ms` : `network error: ${errorMessage(error)}`;
        return { kind: 'retry', network: true, error: message };
      } finally {
        clearTimeout(timer);
        release?.();
      }
    },
  };
}

/** The message of whatever a fetch rejected with; a custom fetch may reject with a non-Error that String() can't print. */
function errorMessage(error: unknown): string {
  try {
    return String((error as Error)?.message ?? errorText(error));
  } catch {
    return 'unprintable error';
  }
}

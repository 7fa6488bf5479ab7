import { isRetryableStatus, parseRetryAfter } from '../core/retry';
import type { SendResult, Answer } from '../core/types';

/**
 * The one status ladder every sender uses (the fetch transport, the unload path, the service worker, the relay):
 * 2xx acknowledged; 202 with `Outbox-Queued: 1` handed off to a service worker; 413 split; 408, 429, 5xx, 1xx/3xx
 * retried (honouring Retry-After); every other status a permanent rejection. Wires add what their bodies say
 * (207 per event, OTLP partial success) before falling back to this.
 */
export function statusResult(status: number, headers: Answer['headers'], now: number, message: string): SendResult {
  if (status === 202 && headers.get('Outbox-Queued') === '1') return { kind: 'handed-off' };
  if (status >= 200 && status < 300) return { kind: 'ok' };
  if (status === 413) return { kind: 'too-large' };
  if (isRetryableStatus(status) || status < 200 || (status >= 300 && status < 400)) {
    return { kind: 'retry', network: false, status, retryAfterMs: parseRetryAfter(headers.get('Retry-After'), now), error: message };
  }
  return { kind: 'rejected', status, error: message };
}

/** The server's own words from an error body (`message`, `error` or the text), one line, at most 300 characters. */
export function serverMessage(status: number, text: string): string {
  let said = text;
  try {
    const body = JSON.parse(text) as { message?: unknown; error?: unknown };
    const picked = typeof body?.message === 'string' ? body.message : typeof body?.error === 'string' ? body.error : undefined;
    if (picked !== undefined) said = picked;
  } catch {
    /* not JSON: the text itself */
  }
  said = said.replace(/\s+/g, ' ').trim().slice(0, 300);
  return said === '' ? `HTTP ${status}` : `HTTP ${status}: ${said}`;
}

/** Reads an answer's body as text; '' when it cannot be read (the connection is freed either way). */
export async function bodyText(response: Answer): Promise<string> {
  try {
    return await response.text();
  } catch {
    return '';
  }
}

import { utf8Length } from '../core/encode';
import type { QueuedEvent, SendResult, StoredEvent, Answer, Wire } from '../core/types';
import { bodyText, serverMessage, statusResult } from './answer';

/** An OTLP/JSON attribute value: exactly one member is present. `intValue` is a decimal string (int64 in proto3 JSON). */
export type OtlpAnyValue =
  | { stringValue: string }
  | { intValue: string }
  | { doubleValue: number }
  | { boolValue: boolean }
  | { arrayValue: { values: OtlpAnyValue[] } };

/** One attribute. Never built without a value: Langfuse accepts such a batch and then loses all of it. */
export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

/** One finished span as OTLP/JSON carries it: lowercase hex ids, times as unix-nanosecond decimal strings. */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** 1 = SPAN_KIND_INTERNAL. */
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpKeyValue[];
  /** Present only for an error: code 2 = STATUS_CODE_ERROR. */
  status?: { code: number; message?: string };
}

/**
 * One attribute from a JS value, or undefined when there is nothing to send (undefined, null, a non-finite number,
 * an object): string → stringValue, safe integer → intValue (decimal string), other finite number → doubleValue,
 * boolean → boolValue, array of strings → arrayValue (other entries skipped).
 */
export function attr(key: string, value: unknown): OtlpKeyValue | undefined {
  switch (typeof value) {
    case 'string':
      return { key, value: { stringValue: value } };
    case 'boolean':
      return { key, value: { boolValue: value } };
    case 'number':
      if (Number.isSafeInteger(value)) return { key, value: { intValue: String(value) } };
      return Number.isFinite(value) ? { key, value: { doubleValue: value } } : undefined;
    case 'object':
      if (!Array.isArray(value)) return undefined;
      {
        const values: OtlpAnyValue[] = [];
        for (const item of value) if (typeof item === 'string') values.push({ stringValue: item });
        return { key, value: { arrayValue: { values } } };
      }
    default:
      return undefined;
  }
}

/** What the resource of every export says about the sender. */
export interface OtlpResource {
  serviceName?: string;
  serviceVersion?: string;
  environment?: string;
  release?: string;
  sdkVersion: string;
}

/** Options of the OTLP wire; `headers` already hold Authorization and the user's headers. */
export interface OtlpWireConfig {
  url: string;
  headers: Record<string, string>;
  gzip: boolean;
  resource: OtlpResource;
}

function resourceAttributes(resource: OtlpResource): OtlpKeyValue[] {
  const list = [
    attr('service.name', resource.serviceName || 'outbox'),
    attr('service.version', resource.serviceVersion || undefined),
    attr('telemetry.sdk.name', 'outbox'),
    attr('telemetry.sdk.language', 'webjs'),
    attr('telemetry.sdk.version', resource.sdkVersion),
    attr('deployment.environment', resource.environment || undefined),
    attr('langfuse.environment', resource.environment || undefined),
    attr('langfuse.release', resource.release || undefined),
  ];
  return list.filter((kv): kv is OtlpKeyValue => kv !== undefined);
}

/** `partialSuccess.rejectedSpans` of a 2xx body (int64: a number or a decimal string), with its message. */
function partialSuccess(text: string): { rejected: number; message?: string } | undefined {
  if (text === '' || text[0] !== '{') return undefined;
  try {
    const partial = (JSON.parse(text) as { partialSuccess?: { rejectedSpans?: unknown; errorMessage?: unknown } })?.partialSuccess;
    const rejected = Number(partial?.rejectedSpans);
    if (!(rejected > 0)) return undefined;
    const message = typeof partial?.errorMessage === 'string' && partial.errorMessage !== '' ? partial.errorMessage.slice(0, 300) : undefined;
    return { rejected: Math.floor(rejected), message };
  } catch {
    return undefined;
  }
}

/** Langfuse's rate-limit body `{details: {retryAfterSeconds}}`: the only wait a cross-origin page can read. */
function bodyRetryAfterMs(text: string): number | undefined {
  try {
    const seconds = Number((JSON.parse(text) as { details?: { retryAfterSeconds?: unknown } })?.details?.retryAfterSeconds);
    return Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : undefined;
  } catch {
    return undefined;
  }
}

const AUTH_WORDS: Record<number, string> = {
  401: 'the OTLP endpoint did not accept the credentials (it needs Basic publicKey:secretKey)',
  403: 'the OTLP endpoint refused this key (a public key alone may send scores only)',
};

/** The OTLP/HTTP JSON wire (spans → ExportTraceServiceRequest) with Langfuse's ingestion-version header. */
export function createOtlpWire(config: OtlpWireConfig): Wire {
  const resource = JSON.stringify({ attributes: resourceAttributes(config.resource) });
  // Langfuse copies every attribute of a span whose scope does not start with `langfuse-sdk` into its metadata as
  // `attributes.<key>` (it takes such spans for foreign instrumentation). Outbox's spans carry Langfuse's own
  // attributes, so they go under a `langfuse-sdk` scope; the resource's telemetry.sdk.* still says it is Outbox.
  const scope = JSON.stringify({ name: 'langfuse-sdk-outbox', version: config.resource.sdkVersion });
  const prefix = '{"resourceSpans":[{"resource":' + resource + ',"scopeSpans":[{"scope":' + scope + ',"spans":[';
  const suffix = ']}]}]}';
  const headers = { 'Content-Type': 'application/json', 'x-langfuse-ingestion-version': '4', ...config.headers };

  async function answer(response: Answer, _ids: string[], now: number): Promise<SendResult> {
    let status = 0;
    try {
      status = response.status;
      const text = await bodyText(response);
      const base = statusResult(status, response.headers, now, serverMessage(status, text));
      if (base.kind === 'ok') {
        const partial = partialSuccess(text);
        return partial ? { kind: 'ok', rejectedCount: partial.rejected, message: partial.message } : base;
      }
      if (base.kind === 'retry') {
        if (status === 429 && base.retryAfterMs === undefined) {
          const fromBody = bodyRetryAfterMs(text);
          if (fromBody !== undefined) return { ...base, retryAfterMs: fromBody };
        }
        return base;
      }
      if (base.kind === 'rejected') {
        const error = text.trim() === '' && AUTH_WORDS[status] ? `HTTP ${status}: ${AUTH_WORDS[status]}` : base.error;
        // Langfuse refuses a whole export for one bad span and stores nothing: the core splits to find it.
        return status === 400 ? { kind: 'rejected', status, error, bisect: true } : { ...base, error };
      }
      return base;
    } catch (error) {
      return { kind: 'retry', network: false, status, error: `reading the OTLP answer failed: ${String(error)}` };
    }
  }

  return {
    name: 'otlp',
    url: config.url,
    headers,
    gzip: config.gzip,
    envelopeBytes: utf8Length(prefix) + utf8Length(suffix),
    encodeRecord(record: QueuedEvent): string | undefined {
      return record.body === undefined ? undefined : JSON.stringify(record.body);
    },
    encodeBatch(_batchId: string, records: StoredEvent[]): string {
      let spans = '';
      for (let i = 0; i < records.length; i++) spans += (i === 0 ? '' : ',') + records[i]!.line;
      return prefix + spans + suffix;
    },
    answer,
  };
}

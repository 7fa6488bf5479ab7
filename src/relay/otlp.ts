import type { RelayLimits } from './options';
import { utf8Length } from '../core/encode';
import { firstIssue } from './issues';
import { requestSchema } from './otlp-schema';

/** An accepted OTLP/JSON ExportTraceServiceRequest: only the fields the relay knows, unknown keys stripped. */
export interface OtlpRequest {
  resourceSpans: { resource?: unknown; schemaUrl?: string; scopeSpans: { scope?: unknown; schemaUrl?: string; spans: OtlpSpan[] }[] }[];
}
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  [field: string]: unknown;
}

/** The dedup key of a span: trace id and span id, lower case. */
export const spanKey = (s: { traceId: string; spanId: string }) => `${s.traceId.toLowerCase()}:${s.spanId.toLowerCase()}`;

/**
 * Validates an OTLP/JSON body. The whole request is refused on the first problem (Langfuse refuses the whole
 * batch too), with a message naming where: `resourceSpans[0].scopeSpans[0].spans[3].traceId: …`.
 */
export function parseOtlp(json: unknown, limits: RelayLimits): { ok: true; request: OtlpRequest; keys: string[] } | { ok: false; message: string } {
  const result = requestSchema(limits).safeParse(json);
  if (!result.success) return { ok: false, message: firstIssue(result.error.issues, json) };
  const request = result.data as OtlpRequest;
  const keys: string[] = [];
  for (const rs of request.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) keys.push(spanKey(s));
  if (keys.length > limits.maxSpans) return { ok: false, message: `resourceSpans: ${keys.length} spans, more than ${limits.maxSpans} in one request` };
  return { ok: true, request, keys };
}

/** The request with only the first span of each key in `keep` (empty scopes and resources left out). */
export function filterOtlp(request: OtlpRequest, keep: ReadonlySet<string>): OtlpRequest {
  const left = new Set(keep);
  const resourceSpans: OtlpRequest['resourceSpans'] = [];
  for (const rs of request.resourceSpans) {
    const scopeSpans = rs.scopeSpans
      .map((ss) => ({ ...ss, spans: ss.spans.filter((s) => left.delete(spanKey(s))) }))
      .filter((ss) => ss.spans.length > 0);
    if (scopeSpans.length > 0) resourceSpans.push({ ...rs, scopeSpans });
  }
  return { resourceSpans };
}

/**
 * Cuts the request into bodies of at most `maxBytes` (UTF-8), each a valid ExportTraceServiceRequest, spans in
 * order; undefined when one span with its resource and scope is larger than that on its own.
 */
export function chunkOtlp(request: OtlpRequest, maxBytes: number): { body: string; keys: string[] }[] | undefined {
  const chunks: { body: string; keys: string[] }[] = [];
  let keys: string[] = [];
  let bytes = 32;
  let group = '';
  const flush = () => {
    if (keys.length > 0) chunks.push({ body: JSON.stringify(filterOtlp(request, new Set(keys))), keys });
    keys = [];
    bytes = 32;
    group = '';
  };
  for (let ri = 0; ri < request.resourceSpans.length; ri++) {
    const rs = request.resourceSpans[ri]!;
    const resourceBytes = utf8Length(JSON.stringify(rs.resource ?? null)) + 64;
    for (let si = 0; si < rs.scopeSpans.length; si++) {
      const ss = rs.scopeSpans[si]!;
      const wrapper = resourceBytes + utf8Length(JSON.stringify(ss.scope ?? null)) + 64;
      for (const span of ss.spans) {
        const size = utf8Length(JSON.stringify(span)) + 1;
        if (32 + wrapper + size > maxBytes) return undefined;
        const here = `${ri}/${si}`;
        const extra = group === here ? 0 : wrapper;
        if (bytes + extra + size > maxBytes) flush();
        bytes += (group === here ? 0 : wrapper) + size;
        group = here;
        keys.push(spanKey(span));
      }
    }
  }
  flush();
  return chunks.every((c) => utf8Length(c.body) <= maxBytes) ? chunks : undefined;
}

/** Langfuse's two paths under a server's (or a relay's) base URL. */
export const INGESTION_PATH = '/api/public/ingestion';
export const OTLP_PATH = '/api/public/otel/v1/traces';

/**
 * Where each wire goes: explicit `endpoints` first, then `endpoint` (v1, events), then the paths under `relay` or
 * `baseUrl`. A v1 `endpoint` ending in Langfuse's ingestion path also gives the traces URL beside it. Undefined
 * when nothing names a URL for events. URLs may still be relative here (entries resolve them).
 */
export function resolveEndpoints(o: {
  baseUrl?: string;
  relay?: string;
  endpoint?: string;
  endpoints?: { traces?: string; events?: string };
}): { endpoint?: string; tracesEndpoint?: string } | undefined {
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const base = (str(o.relay) ?? str(o.baseUrl))?.replace(/\/+$/, '');
  const v1 = str(o.endpoint);
  const events = str(o.endpoints?.events);
  const tracesUrl = str(o.endpoints?.traces);
  const v1Base = v1 !== undefined && v1.replace(/\/+$/, '').endsWith(INGESTION_PATH) ? v1.replace(/\/+$/, '').slice(0, -INGESTION_PATH.length) : undefined;
  const endpoint = events ?? v1 ?? (base !== undefined ? base + INGESTION_PATH : undefined);
  const traces = tracesUrl ?? (base !== undefined ? base + OTLP_PATH : v1Base !== undefined ? v1Base + OTLP_PATH : undefined);
  return endpoint === undefined && traces === undefined ? undefined : { endpoint, tracesEndpoint: traces };
}

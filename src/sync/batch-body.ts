/** Reading and rewriting the ingestion batch inside a stored request. */

/** Parses a stored request's body as an ingestion batch (gunzipping if needed); undefined if it is not one. */
export async function readBatch(request: Request): Promise<{ batch: unknown[]; metadata?: Record<string, unknown> } | undefined> {
  try {
    let text: string;
    if (request.headers.get('Content-Encoding') === 'gzip' && request.body) {
      text = await new Response(request.body.pipeThrough(new DecompressionStream('gzip'))).text();
    } else {
      text = await request.text();
    }
    const parsed = JSON.parse(text) as { batch?: unknown; metadata?: Record<string, unknown> };
    return parsed && Array.isArray(parsed.batch) ? { batch: parsed.batch, metadata: parsed.metadata } : undefined;
  } catch {
    return undefined;
  }
}

/** A copy of `stored` whose body holds only the events whose id is in `keep` (uncompressed JSON). */
export function rebuild(stored: Request, parsed: { batch: unknown[]; metadata?: Record<string, unknown> }, keep: Set<string>): Request {
  const batch = parsed.batch.filter((e) => keep.has(String((e as { id?: unknown })?.id)));
  const metadata = parsed.metadata ? { ...parsed.metadata, batch_size: batch.length } : undefined;
  const headers = new Headers(stored.headers);
  headers.delete('Content-Encoding');
  headers.delete('Content-Length');
  return new Request(stored.url, { method: 'POST', headers, body: JSON.stringify(metadata ? { batch, metadata } : { batch }), credentials: stored.credentials });
}

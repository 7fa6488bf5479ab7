/** Why a body could not be read: too large (413), an encoding we cannot undo (415), or a broken gzip stream (400). */
export type BodyProblem = { status: 400 | 413 | 415; message: string };

/**
 * Reads a request body as text, at most `maxBytes` on the wire and — for `Content-Encoding: gzip` — at most
 * `maxBytes` after inflation too (DecompressionStream, counted chunk by chunk, so a small bomb stops early).
 */
export async function readBody(request: Request, maxBytes: number): Promise<{ text: string } | BodyProblem> {
  const declared = Number(request.headers.get('Content-Length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) return tooLarge(maxBytes);
  const encoding = (request.headers.get('Content-Encoding') ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip') {
    return { status: 415, message: `Content-Encoding "${encoding.slice(0, 40)}" is not supported: send gzip or none` };
  }
  if (request.body === null) return { text: '' };
  let stream: ReadableStream<Uint8Array> = request.body.pipeThrough(limit(maxBytes));
  if (encoding === 'gzip') {
    if (typeof DecompressionStream !== 'function') return { status: 415, message: 'gzip bodies are not supported on this platform' };
    stream = stream.pipeThrough(new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>).pipeThrough(limit(maxBytes));
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    if (error instanceof TooLarge) return tooLarge(maxBytes);
    return { status: 400, message: encoding === 'gzip' ? 'the body is not valid gzip' : 'the body could not be read' };
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes) };
  } catch {
    return { status: 400, message: 'the body is not valid UTF-8' };
  }
}

class TooLarge extends Error {}

function tooLarge(maxBytes: number): BodyProblem {
  return { status: 413, message: `the body is larger than ${maxBytes} bytes (before or after gzip): send smaller batches` };
}

/** A pass-through stream that errors once more than `maxBytes` went through it. */
function limit(maxBytes: number): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0;
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > maxBytes) controller.error(new TooLarge());
      else controller.enqueue(chunk);
    },
  });
}

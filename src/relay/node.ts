import type { RelayContext } from './options';

/** The parts of node:http's IncomingMessage the bridge uses (typed here so the relay builds without Node types). */
export interface NodeRequest extends AsyncIterable<Uint8Array> {
  method?: string;
  url?: string;
  headers: { host?: string };
  rawHeaders: string[];
  socket: { remoteAddress?: string; encrypted?: boolean };
  complete: boolean;
  resume(): unknown;
  destroy(): unknown;
}

/** The parts of node:http's ServerResponse the bridge uses. */
export interface NodeResponse {
  headersSent: boolean;
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: Uint8Array): boolean;
  end(chunk?: string): unknown;
  once(event: 'drain', listener: () => void): unknown;
  destroy(): unknown;
}

/** Options of toNodeListener(). */
export interface NodeListenerOptions {
  /**
   * The public origin the relay is reached at (`https://app.example`), when a proxy in front changes the scheme or
   * host. @default `http(s)://` + the request's Host header
   */
  origin?: string;
}

type FetchHandler = (request: Request, env?: unknown, ctx?: RelayContext) => Promise<Response>;

/**
 * A `node:http` request listener for a fetch handler: IncomingMessage → Request (the body streamed, not buffered),
 * Response → ServerResponse. The socket's remote address reaches the handler as `ctx.remoteAddress`; env is
 * `process.env`. Needs Node ≥ 18 (global Request/Response/ReadableStream).
 */
export function toNodeListener(handler: FetchHandler, options: NodeListenerOptions = {}): (req: NodeRequest, res: NodeResponse) => void {
  return (req, res) => {
    void bridge(handler, options, req, res);
  };
}

async function bridge(handler: FetchHandler, options: NodeListenerOptions, req: NodeRequest, res: NodeResponse): Promise<void> {
  let response: Response;
  let request: Request | undefined;
  try {
    const secure = req.socket.encrypted === true;
    const base = options.origin ?? `${secure ? 'https' : 'http'}://${req.headers.host ?? '127.0.0.1'}`;
    const headers = new Headers();
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const init: RequestInit & { duplex?: 'half' } = { method: req.method, headers };
    if (hasBody) {
      init.body = streamOf(req);
      init.duplex = 'half';
    }
    request = new Request(new URL(req.url ?? '/', base), init);
    response = await handler(request, (globalThis as { process?: { env?: unknown } }).process?.env, {
      remoteAddress: req.socket.remoteAddress,
    });
  } catch {
    // A request Node accepted but the fetch API cannot express (a bad header value, a broken URL).
    if (!res.headersSent) res.writeHead(400, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ message: 'malformed request' }));
    req.resume();
    return;
  }
  // A body the handler never read (an answer from the headers alone, like a 413 by Content-Length) is discarded.
  if (request.body !== null && !request.bodyUsed && !request.body.locked) void request.body.cancel().catch(() => undefined);
  const out: Record<string, string> = {};
  response.headers.forEach((value, name) => (out[name] = value));
  res.writeHead(response.status, out);
  if (response.body === null) {
    res.end();
  } else {
    try {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (!res.write(value)) await new Promise<void>((resolve) => res.once('drain', () => resolve()));
      }
      res.end();
    } catch {
      res.destroy();
    }
  }
}

/** Bytes of an unread request body the bridge discards after an early answer before it closes the connection. */
const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;

/** The request body as a web stream, pulled chunk by chunk (backpressure reaches the socket). */
function streamOf(req: NodeRequest): ReadableStream<Uint8Array> {
  let chunks: AsyncIterator<Uint8Array> | undefined; // made on the first read: an unread body stays untouched
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        chunks ??= req[Symbol.asyncIterator]();
        const { done, value } = await chunks.next();
        if (done) controller.close();
        else controller.enqueue(new Uint8Array(value));
      } catch (error) {
        controller.error(error);
      }
    },
    cancel() {
      // The handler answered without reading everything (413, 400): read the rest and discard it, so the client
      // gets the answer and the connection stays usable; past DRAIN_LIMIT_BYTES the connection is cut instead.
      // (Once an async iterator is attached, resume() no longer makes the stream flow: drain through it.)
      const it = (chunks ??= req[Symbol.asyncIterator]());
      void (async () => {
        let drained = 0;
        try {
          for (;;) {
            const { done, value } = await it.next();
            if (done) return;
            drained += value.byteLength;
            if (drained > DRAIN_LIMIT_BYTES) return void req.destroy();
          }
        } catch {
          /* the client went away */
        }
      })();
    },
  });
}

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
    const request = new Request(new URL(req.url ?? '/', base), init);
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
  // A body the handler did not read (refused early) is drained, so the connection can be reused.
  if (!req.complete) req.resume();
}

/** The request body as a web stream, pulled chunk by chunk (backpressure reaches the socket). */
function streamOf(req: NodeRequest): ReadableStream<Uint8Array> {
  const chunks = req[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await chunks.next();
        if (done) controller.close();
        else controller.enqueue(new Uint8Array(value));
      } catch (error) {
        controller.error(error);
      }
    },
    async cancel() {
      await chunks.return?.();
    },
  });
}

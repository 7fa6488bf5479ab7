// Type declarations for server.mjs (so strict TypeScript can import it in tests).
export interface LlmServer {
  /** e.g. 'http://127.0.0.1:41234' */
  readonly url: string;
  /** url + '/v1', the OpenAI client's baseURL */
  readonly baseURL: string;
  close(): Promise<void>;
}
export declare function createLlmListener(opts?: { delayMs?: number }): (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
export declare function startLlmServer(opts?: { port?: number; delayMs?: number }): Promise<LlmServer>;
export declare function createDemoLlmMount(opts?: { delayMs?: number }): (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;

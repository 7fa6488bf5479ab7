// A stand-in for Chrome's built-in AI session (the Prompt API's `LanguageModel`), since no on-device model can run
// here (no Chrome with Gemini Nano, no GPU). Built from the API's shape as MDN documents it (LanguageModel:
// create, prompt, promptStreaming, append, clone, destroy, measureContextUsage, contextUsage, contextWindow, the
// contextoverflow event, QuotaExceededError) and as the web-platform tests use its older names (inputUsage,
// inputQuota, measureInputUsage, quotaoverflow). Its "model" echoes the prompt word by word; a token is a word.

const words = (input: unknown): string[] => {
  const text = typeof input === 'string' ? input : Array.isArray(input) ? input.map((m: { content?: unknown }) => String(m?.content ?? '')).join(' ') : String(input);
  return text.split(/\s+/).filter(Boolean);
};

export interface StandInOptions {
  /** Use the older attribute names (inputUsage / inputQuota / measureInputUsage) instead of the current ones. */
  legacyNames?: boolean;
  contextWindow?: number;
  /** ms between streamed chunks */
  chunkDelayMs?: number;
  temperature?: number;
  topK?: number;
}

export class StandInLanguageModel extends EventTarget {
  #usage = 0;
  #window: number;
  #delay: number;
  #destroyed = false;
  readonly temperature: number;
  readonly topK: number;
  readonly legacy: boolean;
  /** Defined per instance, by the names chosen (current or older). */
  declare readonly contextUsage?: number;
  declare readonly contextWindow?: number;
  declare readonly inputUsage?: number;
  declare readonly inputQuota?: number;

  static async create(options: StandInOptions = {}): Promise<StandInLanguageModel> {
    return new StandInLanguageModel(options);
  }

  constructor(options: StandInOptions = {}) {
    super();
    this.#window = options.contextWindow ?? 4096;
    this.#delay = options.chunkDelayMs ?? 5;
    this.temperature = options.temperature ?? 1;
    this.topK = options.topK ?? 3;
    this.legacy = options.legacyNames === true;
    if (this.legacy) {
      Object.defineProperty(this, 'inputUsage', { get: () => this.#usage, enumerable: true });
      Object.defineProperty(this, 'inputQuota', { get: () => this.#window, enumerable: true });
      Object.defineProperty(this, 'measureInputUsage', { value: (input: unknown) => this.#measure(input) });
    } else {
      Object.defineProperty(this, 'contextUsage', { get: () => this.#usage, enumerable: true });
      Object.defineProperty(this, 'contextWindow', { get: () => this.#window, enumerable: true });
      Object.defineProperty(this, 'measureContextUsage', { value: (input: unknown) => this.#measure(input) });
    }
  }

  async #measure(input: unknown): Promise<number> {
    return words(input).length;
  }

  #answer(input: unknown): string[] {
    return ['Echo:', ...words(input)].map((w, i) => (i === 0 ? w : ' ' + w));
  }

  #reserve(input: unknown): void {
    if (this.#destroyed) throw new DOMException('The session was destroyed', 'InvalidStateError');
    const need = words(input).length;
    if (this.#usage + need > this.#window) {
      this.dispatchEvent(new Event(this.legacy ? 'quotaoverflow' : 'contextoverflow'));
      throw new DOMException('The input is too large', 'QuotaExceededError');
    }
    this.#usage += need;
  }

  async prompt(input: unknown, options: { signal?: AbortSignal } = {}): Promise<string> {
    options.signal?.throwIfAborted();
    this.#reserve(input);
    const answer = this.#answer(input);
    await new Promise((resolve, reject) => {
      const t = setTimeout(resolve, this.#delay * answer.length);
      options.signal?.addEventListener('abort', () => (clearTimeout(t), reject(options.signal!.reason)), { once: true });
    });
    this.#usage += answer.length;
    return answer.join('');
  }

  promptStreaming(input: unknown, options: { signal?: AbortSignal } = {}): ReadableStream<string> {
    options.signal?.throwIfAborted();
    this.#reserve(input);
    const answer = this.#answer(input);
    let i = 0;
    return new ReadableStream<string>({
      pull: async (controller) => {
        if (options.signal?.aborted) {
          controller.error(options.signal.reason);
          return;
        }
        await new Promise((r) => setTimeout(r, this.#delay));
        if (i === answer.length) {
          controller.close();
          return;
        }
        this.#usage += 1;
        controller.enqueue(answer[i++]!);
      },
    }, { highWaterMark: 0 });
  }

  async append(input: unknown): Promise<void> {
    this.#reserve(input);
  }

  async clone(): Promise<StandInLanguageModel> {
    const copy = new StandInLanguageModel({ legacyNames: this.legacy, contextWindow: this.#window, chunkDelayMs: this.#delay, temperature: this.temperature, topK: this.topK });
    copy.#usage = this.#usage;
    return copy;
  }

  destroy(): void {
    this.#destroyed = true;
  }
}

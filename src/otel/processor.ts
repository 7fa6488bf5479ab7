import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { assemble } from '../create';
import type { ClientHooks } from '../core/client';
import { optionsFromEnv, OutboxOptionsError } from '../core/options';
import type { OutboxStats, Transport, Wire, WireName } from '../core/types';
import type { Outbox, ScoreInput } from '../trace/types';
import { authHeaders, createFetchTransport } from '../transport/fetch';
import { createIngestionWire, SDK_VERSION } from '../wire/ingestion';
import { applyMask, encodeSpan } from './encode';
import { isDefaultExportSpan } from './filter';
import { createSpanGroups } from './groups';
import { splitOptions, type OutboxSpanProcessorOptions, type ProcessorSettings } from './options';
import { processorPlatform, waitUntilOf } from './platform';
import { claimedTraceId, propagatedAttributes } from './propagation';
import { createOtelWire } from './wire';

/** How long past `timeout` forceFlush() and shutdown() may take: the time to settle an aborted request. */
export const SETTLE_MARGIN_MS = 250;
/** Most started spans whose "expected to be exported" flag is remembered for their children (oldest forgotten). */
export const MAX_TRACKED_STARTS = 10_000;

const APP_ROOT = 'langfuse.internal.is_app_root';
const PROMPT_NAME = 'langfuse.observation.prompt.name';
const PROMPT_VERSION = 'langfuse.observation.prompt.version';

/** The processor's counters: the client's (`tracked` counts spans handed to it) plus spans the filter left out. */
export interface OutboxSpanProcessorStats extends OutboxStats {
  /** Ended spans `shouldExportSpan` did not export (by design, not a loss). */
  filtered: number;
}

function typeOf(span: ReadableSpan): string {
  const type = span.attributes['langfuse.observation.type'];
  return typeof type === 'string' && type !== '' ? type : 'span';
}

/** Resolves when `work` settles or after `ms`, whichever is first; never rejects. */
function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const cap = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    (timer as { unref?: () => void }).unref?.();
  });
  return Promise.race([work.then(() => undefined, () => undefined), cap]).finally(() => clearTimeout(timer));
}

/**
 * An OpenTelemetry SpanProcessor that exports through Outbox — a drop-in for `@langfuse/otel`'s
 * `LangfuseSpanProcessor` (same option names and units, same span-start attributes, same default filter and
 * masking) whose spans are never lost silently: each exported span is one record in Outbox's bounded queue,
 * retried on network errors, 5xx and 429 (honouring Retry-After), split on 413 and bisected on a whole-batch 400,
 * and every span that leaves without an acknowledgement is counted and reported to `onDrop` with its reason.
 * `forceFlush()` and `shutdown()` never reject and resolve within `timeout` seconds plus a small margin.
 * Invalid options throw OutboxOptionsError at construction, naming the option.
 */
export class OutboxSpanProcessor implements SpanProcessor {
  /** The Outbox client underneath (spans and scores; not handed out: its tracing calls would bypass the OTel SDK). */
  readonly #outbox: Outbox;
  readonly #hooks: ClientHooks;
  readonly #settings: ProcessorSettings;
  readonly #filter: (span: ReadableSpan) => boolean;
  readonly #environment: string | undefined;
  readonly #release: string | undefined;
  readonly #groups = createSpanGroups();
  readonly #groupOf = new WeakMap<object, number>();
  /** Spans ended but not yet queued (an async mask or resource): forceFlush waits for them. */
  readonly #pending = new Set<Promise<void>>();
  /** Sends in flight (the client re-queues a failed batch out of reach of later flushes; forceFlush awaits these). */
  readonly #sending = new Set<Promise<unknown>>();
  /** Span id → whether the filter would export it, read at its start: a child of an exported span is no app root. */
  readonly #expected = new Map<string, boolean>();
  readonly #waitUntil: ((work: Promise<unknown>) => void) | undefined;
  #filtered = 0;
  #flushQueued = false;
  #shutdown: Promise<void> | undefined;

  constructor(options: OutboxSpanProcessorOptions = {}) {
    const processEnv = (globalThis as { process?: { env?: Record<string, unknown> } }).process?.env;
    const { settings, client } = splitOptions(options, processEnv);
    this.#settings = settings;
    const user = settings.shouldExportSpan;
    this.#filter = user ? (span) => user({ otelSpan: span }) !== false : isDefaultExportSpan;
    let built: { outbox: Outbox; hooks: ClientHooks };
    try {
      built = assemble(client, {
        fromEnv: optionsFromEnv(settings.env as Record<string, unknown> | undefined),
        platform: (o) => {
          const headers = {
            ...authHeaders(o.publicKey, o.secretKey),
            'x-langfuse-sdk-name': 'outbox',
            'x-langfuse-sdk-version': SDK_VERSION,
            ...(o.publicKey ? { 'x-langfuse-public-key': o.publicKey } : {}),
            ...o.headers,
          };
          const otlp = createOtelWire({ url: o.tracesEndpoint!, headers, gzip: true }, this.#groups, (body) =>
            typeof body === 'object' && body !== null ? this.#groupOf.get(body) : undefined,
          );
          const fetchTransport = createFetchTransport({ timeoutMs: o.requestTimeoutMs, compression: o.compression });
          const transport: Transport = {
            send: (batch) => {
              const sent = fetchTransport.send(batch);
              this.#sending.add(sent);
              void sent.finally(() => this.#sending.delete(sent));
              return sent;
            },
          };
          // Scores go as Langfuse's own SDK sends them from a server (@langfuse/client: score-create batches on
          // /api/public/ingestion), with the spans' keys, through the same queue.
          const wires: Partial<Record<WireName, Wire>> = { otlp };
          if (o.endpoint) wires.ingestion = createIngestionWire({ url: o.endpoint, headers, metadata: o.metadata });
          return { ...processorPlatform(settings.ctx, () => this.#flushSoon()), wires, transport };
        },
      });
    } catch (error) {
      if (error instanceof OutboxOptionsError) throw new OutboxOptionsError(error.message.replace(/^createOutbox/, 'OutboxSpanProcessor'));
      throw error;
    }
    this.#outbox = built.outbox;
    this.#hooks = built.hooks;
    this.#environment = built.hooks.options.environment || undefined;
    this.#release = built.hooks.options.release || undefined;
    this.#waitUntil = waitUntilOf(settings.ctx);
    if (!built.hooks.options.secretKey) {
      built.hooks.warnOnce('otel-no-secret', 'OutboxSpanProcessor: no secretKey (or LANGFUSE_SECRET_KEY): Langfuse refuses OTLP exports without Basic publicKey:secretKey');
    }
  }

  /** Adds environment, release and the trace attributes propagated through the context; marks the app root. */
  onStart = (span: Span, parentContext: Context): void => {
    try {
      const propagated = propagatedAttributes(parentContext);
      if (span.attributes[PROMPT_NAME] != null) {
        delete propagated[PROMPT_NAME];
        delete propagated[PROMPT_VERSION];
      }
      span.setAttributes({ 'langfuse.environment': this.#environment, 'langfuse.release': this.#release, ...propagated });
      this.#markAppRoot(span, parentContext);
    } catch (error) {
      this.#hooks.log(`OutboxSpanProcessor: onStart failed for span "${span.name}": ${String(error)}`);
    }
  };

  /** Queues the ended span as one OTLP record when the filter exports it. Never throws. */
  onEnd = (span: ReadableSpan): void => {
    let id = '';
    let type = 'span';
    try {
      id = span.spanContext().spanId;
      type = typeOf(span);
      this.#expected.delete(id);
      let keep: boolean;
      try {
        keep = this.#filter(span);
      } catch (error) {
        this.#hooks.dropInput('invalid', [{ id, type }], `shouldExportSpan threw: ${String(error)}`);
        return;
      }
      if (!keep) {
        this.#filtered++;
        return;
      }
      const body = encodeSpan(span);
      const endMs = span.endTime[0] * 1000 + span.endTime[1] / 1e6;
      const masked = this.#settings.mask ? applyMask(body, span.attributes, this.#settings.mask, (m) => this.#hooks.log(m)) : undefined;
      const resource = span.resource as { asyncAttributesPending?: boolean; waitForAsyncAttributes?: () => Promise<void> };
      const queue = () => {
        this.#groupOf.set(body, this.#groups.indexOf(span));
        this.#hooks.push({ id, type, ts: endMs, body, wire: 'otlp' });
        if (this.#settings.exportMode === 'immediate') this.#flushSoon();
      };
      if (!masked && !resource.asyncAttributesPending) return queue();
      const work = (async () => {
        if (resource.asyncAttributesPending) await resource.waitForAsyncAttributes?.();
        await masked;
        queue();
      })().catch((error) => this.#hooks.dropInput('invalid', [{ id, type }], `span could not be prepared: ${String(error)}`));
      this.#pending.add(work);
      void work.finally(() => this.#pending.delete(work));
    } catch (error) {
      this.#hooks.dropInput('invalid', [{ id, type }], `span could not be encoded: ${String(error)}`);
    }
  };

  /**
   * Sends every span that ended before the call. Resolves once each is acknowledged or dropped with a reason, or
   * — while the server is unreachable — after at most `timeout` seconds plus SETTLE_MARGIN_MS, with the spans
   * still queued and retried afterwards. Never rejects.
   */
  forceFlush = (): Promise<void> => {
    const pending = [...this.#pending];
    // flush() waits for what is queued now; a batch retried after a failure is sent by it (or waits for the
    // backoff) but not awaited, so the sends in flight once it returns are awaited here too.
    const work = Promise.allSettled(pending)
      .then(() => this.#outbox.flush())
      .then(() => Promise.allSettled([...this.#sending]));
    const done = within(work, this.#settings.timeoutMs + SETTLE_MARGIN_MS);
    this.#waitUntil?.(done);
    return done;
  };

  /**
   * Sends what is queued (one last attempt each, backoff or not), then stops; spans ending later are dropped
   * 'shutdown'. What could not be sent is dropped 'shutdown' and reported. Resolves within `timeout` seconds plus
   * SETTLE_MARGIN_MS; never rejects; later calls return the same promise.
   */
  shutdown = (): Promise<void> => {
    if (!this.#shutdown) {
      const pending = [...this.#pending];
      const work = Promise.allSettled(pending).then(() => this.#outbox.shutdown());
      this.#shutdown = within(work, this.#settings.timeoutMs + SETTLE_MARGIN_MS);
      this.#expected.clear();
      this.#waitUntil?.(this.#shutdown);
    }
    return this.#shutdown;
  };

  /**
   * Queues a Langfuse score (`score-create`, checked as the client's score() checks it) in this processor's queue:
   * sent batched to `/api/public/ingestion` with the same keys as the spans, retried like them, flushed by
   * forceFlush() and shutdown(). Returns its id, or '' when it was dropped 'invalid'. Never throws.
   */
  score = (score: ScoreInput): string => this.#outbox.score(score);

  /** The client's counters plus `filtered`. */
  stats = (): OutboxSpanProcessorStats => ({ ...this.#outbox.stats(), filtered: this.#filtered });

  /** One flush for all spans that end in the same task (exportMode 'immediate'; Workers). */
  #flushSoon(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      const work = this.#outbox.flush();
      this.#waitUntil?.(work);
    });
  }

  /**
   * Langfuse's app-root rule: a span the filter would export at its start, whose parent was not expected to be
   * exported and whose trace no caller claimed through baggage, gets `langfuse.internal.is_app_root`.
   */
  #markAppRoot(span: Span, parentContext: Context): void {
    const { traceId, spanId } = span.spanContext();
    const parentId = span.parentSpanContext?.spanId;
    let expected = false;
    try {
      expected = this.#filter(span as unknown as ReadableSpan) === true;
    } catch {
      expected = false;
    }
    const parentExpected = parentId !== undefined && this.#expected.get(parentId) === true;
    if (this.#expected.size >= MAX_TRACKED_STARTS) this.#expected.delete(this.#expected.keys().next().value as string);
    this.#expected.set(spanId, expected);
    if (expected && !parentExpected && claimedTraceId(parentContext) !== traceId) span.setAttribute(APP_ROOT, true);
  }
}

import { createClient, type ClientHooks, type Platform } from './core/client';
import { systemClock } from './core/clock';
import { resolveOptionsFrom, type EnvOptions, type ResolvedOptions } from './core/options';
import { createUuid } from './core/uuid';
import type { Wire, WireName } from './core/types';
import type { Outbox } from './trace/types';
import { normalizeHexId } from './trace/ids';
import { keepTrace, sampleBound } from './trace/sample';
import { checkScore } from './trace/score';
import { createTracing } from './trace/tracer';
import { authHeaders, createFetchTransport } from './transport/fetch';
import { createIngestionWire, SDK_VERSION } from './wire/ingestion';
import { createOtlpWire } from './wire/otlp';

/** What an entry decides: where options come from and which platform parts to plug in. */
export interface EntrySetup {
  /** Options read from the environment (OUTBOX_* / LANGFUSE_*, by `optionsFromEnv`); a page has none. */
  fromEnv?: EnvOptions;
  /** Base URL for relative endpoints (a page's location). */
  baseUrl?: string;
  /** Entry-specific option keys (zod/mini shape) accepted on top of the shared ones. */
  extraShape?: Record<string, any>;
  /** Throw for options this entry refuses (e.g. secretKey in a page). */
  check?: (options: ResolvedOptions & Record<string, unknown>) => void;
  /** Platform parts besides the fetch transport and the wires, given the resolved options. */
  platform?: (options: ResolvedOptions & Record<string, unknown>) => Partial<Platform>;
  /** Where a 401/403 on the OTLP wire comes from in this entry, added to its drop detail (a page: the relay hint). */
  otlpAuthHint?: string;
}

/** The wires of a client: ingestion (events, scores) and OTLP (spans), each where its URL is known. */
function buildWires(o: ResolvedOptions, hint: string | undefined, warn: (message: string) => void): Partial<Record<WireName, Wire>> {
  const headers = { ...authHeaders(o.publicKey, o.secretKey), ...o.headers };
  const wires: Partial<Record<WireName, Wire>> = {};
  if (o.endpoint) wires.ingestion = createIngestionWire({ url: o.endpoint, headers, metadata: o.metadata });
  if (o.tracesEndpoint) {
    const otlp = createOtlpWire({
      url: o.tracesEndpoint,
      headers,
      gzip: true,
      resource: { environment: o.environment, release: o.release, sdkVersion: SDK_VERSION },
    });
    wires.otlp = !hint
      ? otlp
      : {
          ...otlp,
          async answer(response, ids, now) {
            const result = await otlp.answer(response, ids, now);
            if (result.kind !== 'rejected' || (result.status !== 401 && result.status !== 403)) return result;
            warn(hint);
            return { ...result, error: `${result.error} — ${hint}` };
          },
        };
  }
  return wires;
}

/**
 * Validates options, builds the wires, the fetch transport, the client and its tracing. Throws OutboxOptionsError
 * only. Besides the client and its doors, returns `endOpen` (ends every open observation with level WARNING and
 * this statusMessage; the browser entry calls it when the page goes away for good).
 */
export function assemble(input: unknown, setup: EntrySetup): { outbox: Outbox; hooks: ClientHooks; endOpen: (statusMessage: string) => number } {
  const options = resolveOptionsFrom(input, setup.fromEnv, setup.extraShape, { baseUrl: setup.baseUrl }) as ResolvedOptions & Record<string, unknown>;
  setup.check?.(options);
  const extra = setup.platform?.(options) ?? {};
  let warn = (_message: string): void => undefined;
  const wires = extra.wires ?? buildWires(options, setup.otlpAuthHint, (m) => warn(m));
  const transport = extra.transport ?? createFetchTransport({ timeoutMs: options.requestTimeoutMs, compression: options.compression });
  const clock = extra.clock ?? systemClock;
  const uuid = extra.uuid ?? createUuid();
  const { outbox: core, hooks } = createClient(options, { clock, uuid, ...extra, wires, transport });
  warn = (message) => hooks.warnOnce(message, message);
  const tracing = createTracing({
    emit: (record) => void hooks.push(record),
    now: () => clock.now(),
    fill: (b) => void crypto.getRandomValues(b),
    mask: options.mask,
    environment: options.environment,
    release: options.release,
    maxSpanBytes: options.maxEventBytes,
    sampleRate: options.sampleRate,
    log: (m) => hooks.log(m),
    warn: (w) => hooks.log(`observation ${w.id} (${w.type}): ${w.detail}`),
  });
  // Scores follow their trace's sampling decision, as Langfuse's Python SDK samples them (the tracer's sampler on the
  // score's traceId); a score without a 32-hex traceId (session, dataset run, a legacy id) is always kept.
  const bound = sampleBound(options.sampleRate);
  let scoresSampledOut = 0;
  const score: Outbox['score'] = (input) => {
    try {
      const checked = checkScore(input, uuid);
      if (checked.ok) {
        const traceId = normalizeHexId(checked.body.traceId, 32);
        if (traceId === undefined || keepTrace(traceId, bound)) return core.track('score-create', checked.body, { id: checked.id });
        scoresSampledOut++;
        return checked.id;
      }
      hooks.dropInput('invalid', [{ id: '', type: 'score-create' }], checked.detail);
    } catch (error) {
      hooks.dropInput('invalid', [{ id: '', type: 'score-create' }], `score could not be read: ${String(error)}`);
    }
    return '';
  };
  const { endOpen: _e, openCount: _o, sampledOut, ...calls } = tracing;
  const outbox: Outbox = { ...core, ...calls, score, stats: () => ({ ...core.stats(), sampledOut: sampledOut() + scoresSampledOut }) };
  return { outbox, hooks, endOpen: tracing.endOpen };
}

/** Runs detach functions in reverse order of attachment, each once; one that throws does not stop the others. */
export function detachChain(): { add(detach: () => void): void; run(): void } {
  const list: (() => void)[] = [];
  return {
    add: (detach) => void list.push(detach),
    run() {
      for (const detach of list.splice(0).reverse()) {
        try {
          detach();
        } catch {
          /* each undoes only what it did */
        }
      }
    },
  };
}

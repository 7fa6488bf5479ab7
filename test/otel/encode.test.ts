// Our OTLP/JSON encoding against @opentelemetry/otlp-transformer's JsonTraceSerializer (what LangfuseSpanProcessor
// sends) for the same spans: equal once the fields that carry nothing are left out of both.
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SpanKind, SpanStatusCode, TraceFlags, createTraceState, trace, context } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { encodeSpan, nanos, keyValues } from '../../src/otel/encode';
import { createSpanGroups } from '../../src/otel/groups';
import { createOtelWire } from '../../src/otel/wire';
import type { StoredEvent } from '../../src/core/types';

function collect(): { processor: SpanProcessor; spans: ReadableSpan[] } {
  const spans: ReadableSpan[] = [];
  return {
    spans,
    processor: { onStart() {}, onEnd: (s) => void spans.push(s), forceFlush: async () => {}, shutdown: async () => {} },
  };
}

/** Leaves out what carries nothing (zero counts, UNSET status, empty lists) and writes int64 as strings. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (/^dropped\w*Count$/.test(k) && v === 0) continue;
    if ((k === 'events' || k === 'links') && Array.isArray(v) && v.length === 0) continue;
    if (k === 'status' && (v as { code?: number }).code === 0 && !(v as { message?: string }).message) continue;
    if (k === 'intValue') {
      out[k] = String(v);
      continue;
    }
    out[k] = canonical(v);
  }
  return out;
}

function makeSpans(): ReadableSpan[] {
  const { processor, spans } = collect();
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'checkout', 'service.version': '3.1.0', 'host.cores': 2 }), spanProcessors: [processor] });
  const lf = provider.getTracer('langfuse-sdk', '5.11.1');
  const ai = provider.getTracer('ai');
  const root = lf.startSpan('root', {
    kind: SpanKind.SERVER,
    attributes: { s: 'text', i: 42, big: 2 ** 60, d: 0.25, neg: -7, b: false, strs: ['a', 'b'], nums: [1, 2.5], bools: [true], empty: [], unicode: 'ünï 🚀' },
    startTime: [1764000000, 123456789],
  });
  const parentCtx = trace.setSpan(context.active(), root);
  const child = ai.startSpan(
    'child',
    {
      kind: SpanKind.CLIENT,
      links: [{ context: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.SAMPLED, traceState: createTraceState('k=v') }, attributes: { why: 'retry' } }],
      startTime: [1764000000, 500],
    },
    parentCtx,
  );
  child.addEvent('token', { index: 3 }, [1764000001, 7]);
  child.addEvent('bare', undefined, [1764000001, 8]);
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream 503' });
  child.end([1764000002, 999999999]);
  root.setStatus({ code: SpanStatusCode.OK });
  root.end([1764000003, 0]);
  return spans;
}

describe('OTLP/JSON encoding', () => {
  it('nanos() is exact for every hrtime, including ones past 2^53 ns', () => {
    expect(nanos([1764000000, 123456789])).toBe('1764000000123456789');
    expect(nanos([1764000000, 5])).toBe('1764000000000000005');
    expect(nanos([0, 0])).toBe('0');
    expect(nanos([0, 12])).toBe('12');
    expect(BigInt(nanos([9007199254, 740993000]))).toBe(9007199254n * 1_000_000_000n + 740993000n);
  });

  it('a batch equals JsonTraceSerializer output for the same spans: resources, scopes, ids, times, typed attributes, events, links, status', () => {
    const spans = makeSpans();
    const reference = JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans)));
    const groups = createSpanGroups();
    const bodies = new WeakMap<object, number>();
    const wire = createOtelWire({ url: 'http://127.0.0.1/x', headers: {}, gzip: false }, groups, (b) => bodies.get(b as object));
    const records: StoredEvent[] = spans.map((span) => {
      const body = encodeSpan(span);
      bodies.set(body, groups.indexOf(span));
      return { id: body.spanId, type: 'span', ts: 0, line: wire.encodeRecord({ id: body.spanId, type: 'span', ts: 0, body })!, wire: 'otlp' };
    });
    const ours = JSON.parse(wire.encodeBatch('b', records));
    // One deliberate difference: an integer past 2^53 is written exactly (the reference writes the JSON number
    // 1152921504606847000, which an int64 reader takes as a different integer than 2^60).
    const big = (r: any) => r.resourceSpans[0].scopeSpans.flatMap((s: any) => s.spans).flatMap((s: any) => s.attributes).find((kv: any) => kv.key === 'big');
    expect(big(ours).value).toEqual({ intValue: '1152921504606846976' });
    expect(big(reference).value).toEqual({ intValue: 1152921504606847000 });
    big(reference).value = { intValue: '1152921504606846976' };
    expect(canonical(ours)).toEqual(canonical(reference));
    // Two scopes under one resource, as the reference groups them.
    expect(ours.resourceSpans).toHaveLength(1);
    expect(ours.resourceSpans[0].scopeSpans.map((s: { scope: { name: string } }) => s.scope.name).sort()).toEqual(['ai', 'langfuse-sdk']);
    expect(wire.envelopeBytes).toBeGreaterThan(JSON.stringify(ours).length - records.reduce((n, r) => n + r.line.length + 1, 0));
  });

  it('never writes a KeyValue without a value (Langfuse loses such a batch); the reference does', () => {
    const attrs = { keep: 'x', gone: undefined, nil: null, inArray: ['a', null, 'b'] } as unknown as Record<string, string>;
    expect(keyValues(attrs).map((kv) => kv.key)).toEqual(['keep', 'inArray']);
    const { processor, spans } = collect();
    const provider = new BasicTracerProvider({ spanProcessors: [processor] });
    const span = provider.getTracer('t').startSpan('s');
    span.end();
    // A mask writing undefined straight into attributes, as LangfuseSpanProcessor's applyMaskInPlace can.
    (spans[0]!.attributes as Record<string, unknown>)['langfuse.observation.input'] = undefined;
    const reference = JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans)));
    expect(reference.resourceSpans[0].scopeSpans[0].spans[0].attributes).toContainEqual({ key: 'langfuse.observation.input', value: {} });
    expect(encodeSpan(spans[0]!).attributes.find((kv) => kv.key === 'langfuse.observation.input')).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { createIds, normalizeHexId } from '../../src/trace/ids';
import { toEpochMs, unixNano } from '../../src/trace/time';
import { createTracing } from '../../src/trace/tracer';
import type { ObservationType, SpanRecord, WarnInfo } from '../../src/trace/types';
import type { TracingDeps } from '../../src/trace/tracer';
import type { OtlpAnyValue } from '../../src/wire/otlp';

/** A tracer on a fake clock and a counting random source, recording what it emits, warns and logs. */
function harness(extra: Partial<TracingDeps> = {}) {
  const records: SpanRecord[] = [];
  const warns: WarnInfo[] = [];
  const logs: string[] = [];
  let clock = Date.UTC(2026, 11, 1, 12, 0, 0);
  let seed = 1;
  const tracing = createTracing({
    emit: (r) => records.push(r),
    now: () => clock,
    fill: (b) => {
      for (let i = 0; i < b.length; i++) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; // deterministic LCG; the high byte is well spread
        b[i] = seed >>> 24;
      }
    },
    log: (m) => logs.push(m),
    warn: (w) => warns.push(w),
    ...extra,
  });
  return {
    tracing,
    records,
    warns,
    logs,
    advance(ms: number) {
      clock += ms;
    },
    get now() {
      return clock;
    },
  };
}

function plain(value: OtlpAnyValue): unknown {
  if ('stringValue' in value) return value.stringValue;
  if ('intValue' in value) return Number(value.intValue);
  if ('doubleValue' in value) return value.doubleValue;
  if ('boolValue' in value) return value.boolValue;
  return value.arrayValue.values.map(plain);
}

/** A span's attributes as a key → JS value map; fails on a duplicate key or a KeyValue without a value. */
function attrsOf(record: SpanRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of record.body.attributes) {
    if (kv.key in out) throw new Error(`duplicate attribute ${kv.key}`);
    if (kv.value === undefined || Object.keys(kv.value).length !== 1) throw new Error(`attribute ${kv.key} without one value`);
    out[kv.key] = plain(kv.value);
  }
  return out;
}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

describe('ids', () => {
  it('makes lowercase hex trace (32) and span (16) ids, distinct across pool refills, one fill per 4 KiB', () => {
    let fills = 0;
    let state = 12345;
    const ids = createIds((b) => {
      fills++;
      for (let i = 0; i < b.length; i++) {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0; // LCG: the high byte is well spread
        b[i] = state >>> 24;
      }
    });
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const t = ids.traceId();
      const s = ids.spanId();
      expect(t).toMatch(HEX32);
      expect(s).toMatch(HEX16);
      seen.add(t).add(s);
    }
    expect(seen.size).toBe(2000);
    expect(fills).toBe(Math.ceil((1000 * 24) / 4096));
  });
  it('never returns an all-zero id, even from a fill that writes nothing', () => {
    const ids = createIds(() => {});
    expect(ids.traceId()).toBe('0'.repeat(31) + '1');
    expect(ids.spanId()).toBe('0'.repeat(15) + '1');
  });
  it.each<[unknown, 32 | 16, string | undefined]>([
    ['0AF7651916CD43DD8448EB211C80319C', 32, '0af7651916cd43dd8448eb211c80319c'],
    ['0af7651916cd43dd8448eb211c80319c', 32, '0af7651916cd43dd8448eb211c80319c'],
    ['0af7651916cd43dd8448eb211c80319', 32, undefined],
    ['0af7651916cd43dd8448eb211c80319cc', 32, undefined],
    ['0'.repeat(32), 32, undefined],
    ['g'.repeat(32), 32, undefined],
    ['B7AD6B7169203331', 16, 'b7ad6b7169203331'],
    ['b7ad6b716920333', 16, undefined],
    [' b7ad6b7169203331', 16, undefined],
    [12, 16, undefined],
  ])('normalizeHexId(%j, %i) → %j', (value, digits, expected) => {
    expect(normalizeHexId(value, digits)).toBe(expected);
  });
});

describe('times', () => {
  it.each<[number, string]>([
    [0, '0'],
    [1, '1000000'],
    [1.5, '1500000'],
    [T0, '1796126400000000000'],
    [T0 + 0.001, '1796126400000001000'],
    [1796126400123, '1796126400123000000'],
  ])('unixNano(%d) → %s', (ms, ns) => {
    expect(unixNano(ms)).toBe(ns);
  });
  it.each<[unknown, number | undefined]>([
    [T0, T0],
    [new Date(T0), T0],
    ['2026-12-01T12:00:00.000Z', T0],
    ['2026-12-01T13:00:00+01:00', T0],
    ['not a date', undefined],
    ['12', undefined],
    [NaN, undefined],
    [-1, undefined],
    [new Date(NaN), undefined],
    [{}, undefined],
  ])('toEpochMs(%j) → %j', (value, expected) => {
    expect(toEpochMs(value)).toBe(expected);
  });
});

describe('observation spans', () => {
  const TYPES: ObservationType[] = ['span', 'generation', 'event', 'agent', 'tool', 'chain', 'retriever', 'evaluator', 'embedding', 'guardrail'];

  it.each(TYPES)('%s: one span with its type, times and ids', (type) => {
    const h = harness({ environment: 'prod', release: 'r1', version: 'v1' });
    const o = h.tracing.startObservation('op', { input: { q: 1 }, metadata: { k: 'v' } }, { asType: type });
    expect(o.type).toBe(type);
    expect(o.id).toMatch(HEX16);
    expect(o.traceId).toMatch(HEX32);
    h.advance(25);
    o.end();
    expect(h.records).toHaveLength(1);
    const r = h.records[0]!;
    expect(r).toMatchObject({ id: o.id, type, wire: 'otlp' });
    expect(r.body).toMatchObject({ traceId: o.traceId, spanId: o.id, name: 'op', kind: 1, startTimeUnixNano: '1796126400000000000' });
    expect(r.body.parentSpanId).toBeUndefined();
    expect(r.body.status).toBeUndefined();
    // an event ends at once, at its start
    const end = type === 'event' ? T0 : T0 + 25;
    expect(r.ts).toBe(end);
    expect(r.body.endTimeUnixNano).toBe(unixNano(end));
    expect(attrsOf(r)).toEqual({
      'langfuse.observation.type': type,
      'langfuse.internal.is_app_root': true,
      'langfuse.environment': 'prod',
      'langfuse.release': 'r1',
      'langfuse.version': 'v1',
      'langfuse.observation.input': '{"q":1}',
      'langfuse.observation.metadata': '{"k":"v"}',
    });
    expect(h.warns).toEqual([]);
    expect(h.tracing.openCount()).toBe(0);
  });

  it('a generation carries model, parameters, usage, cost, prompt, completion start and gen_ai attributes', () => {
    const h = harness();
    const g = h.tracing.startObservation('llm', { model: 'gpt-4o', modelParameters: { temperature: 0.2, max_tokens: 100 }, input: [{ role: 'user', content: 'hi' }] }, { asType: 'generation' });
    g.update({
      output: 'hello',
      usageDetails: { input: 12, output: 30 },
      costDetails: { input: 0.0001, output: 0.0003 },
      completionStartTime: new Date(T0 + 5),
      prompt: { name: 'greet', version: 3 },
    });
    g.end(T0 + 40);
    const a = attrsOf(h.records[0]!);
    expect(a).toEqual({
      'langfuse.observation.type': 'generation',
      'langfuse.internal.is_app_root': true,
      'langfuse.observation.input': '[{"role":"user","content":"hi"}]',
      'langfuse.observation.output': 'hello',
      'langfuse.observation.model.name': 'gpt-4o',
      'gen_ai.request.model': 'gpt-4o',
      'langfuse.observation.model.parameters': '{"temperature":0.2,"max_tokens":100}',
      'langfuse.observation.usage_details': '{"input":12,"output":30}',
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 30,
      'langfuse.observation.cost_details': '{"input":0.0001,"output":0.0003}',
      'langfuse.observation.completion_start_time': '2026-12-01T12:00:00.005Z',
      'langfuse.observation.prompt.name': 'greet',
      'langfuse.observation.prompt.version': 3,
    });
    expect(h.records[0]!.body.attributes.find((kv) => kv.key === 'gen_ai.usage.input_tokens')!.value).toEqual({ intValue: '12' });
    expect(h.warns).toEqual([]);
  });

  it('drops bad usage and cost entries with a warning, keeps the good ones', () => {
    const h = harness();
    const g = h.tracing.startObservation('llm', { usageDetails: { input: 3, output: -1, total: 1.5, cached: '4' as never }, costDetails: { total: NaN, input: 0.5 } }, { asType: 'generation' });
    g.end();
    const a = attrsOf(h.records[0]!);
    expect(a['langfuse.observation.usage_details']).toBe('{"input":3}');
    expect(a['gen_ai.usage.output_tokens']).toBeUndefined();
    expect(a['langfuse.observation.cost_details']).toBe('{"input":0.5}');
    expect(h.warns.map((w) => w.detail)).toEqual([
      'usageDetails.output: not a non-negative integer, dropped',
      'usageDetails.total: not a non-negative integer, dropped',
      'usageDetails.cached: not a non-negative integer, dropped',
      'costDetails.total: not a finite number, dropped',
    ]);
    expect(h.warns[0]).toMatchObject({ id: g.id, type: 'generation' });
  });

  it('model attributes on a non-generation type are dropped with a warning (a model would make Langfuse call it a generation)', () => {
    const h = harness();
    // @ts-expect-error the types refuse a model on a tool; untyped code reaches the run-time check
    h.tracing.startObservation('t', { model: 'x' }, { asType: 'tool' }).end();
    expect(attrsOf(h.records[0]!)['langfuse.observation.model.name']).toBeUndefined();
    expect(h.warns.map((w) => w.detail)).toEqual(['model: only generation and embedding observations carry it, dropped']);
  });

  it('level ERROR sets span status 2 with the message; other levels leave it unset; a bad level is dropped', () => {
    const h = harness();
    h.tracing.startObservation('a', { level: 'ERROR', statusMessage: 'boom' }).end();
    h.tracing.startObservation('b', { level: 'WARNING', statusMessage: 'meh' }).end();
    h.tracing.startObservation('c', { level: 'LOUD' as never }).end();
    expect(h.records[0]!.body.status).toEqual({ code: 2, message: 'boom' });
    expect(attrsOf(h.records[0]!)).toMatchObject({ 'langfuse.observation.level': 'ERROR', 'langfuse.observation.status_message': 'boom' });
    expect(h.records[1]!.body.status).toBeUndefined();
    expect(attrsOf(h.records[1]!)['langfuse.observation.level']).toBe('WARNING');
    expect(attrsOf(h.records[2]!)['langfuse.observation.level']).toBeUndefined();
    expect(h.warns.map((w) => w.detail)).toEqual(['level: not DEBUG, DEFAULT, WARNING or ERROR, dropped']);
  });

  it('update merges: later values win, undefined keeps, metadata merges by key; version and environment override the client', () => {
    const h = harness({ environment: 'prod', version: 'v1' });
    const o = h.tracing.startObservation('op', { input: 'a', output: 'x', metadata: { a: 1, b: 2 } });
    o.update({ input: 'b', output: undefined, metadata: { b: 3, c: { d: 4 } }, version: 'v2', environment: 'canary' });
    o.end();
    expect(attrsOf(h.records[0]!)).toEqual({
      'langfuse.observation.type': 'span',
      'langfuse.internal.is_app_root': true,
      'langfuse.environment': 'canary',
      'langfuse.version': 'v2',
      'langfuse.observation.input': 'b',
      'langfuse.observation.output': 'x',
      'langfuse.observation.metadata': '{"a":1,"b":3,"c":{"d":4}}',
    });
  });

  it('a second end(), and update() after end(), are ignored and logged, never thrown', () => {
    const h = harness();
    const o = h.tracing.startObservation('op');
    o.end();
    expect(() => {
      o.end();
      o.update({ output: 'late' });
      o.updateTrace({ name: 'late' });
    }).not.toThrow();
    expect(h.records).toHaveLength(1);
    expect(attrsOf(h.records[0]!)['langfuse.observation.output']).toBeUndefined();
    expect(h.logs).toHaveLength(3);
    expect(h.logs[0]).toContain('end() after end() ignored');
    expect(h.logs[1]).toContain('update() after end() ignored');
  });

  it('an event ends at once; its end() and update() are ignored', () => {
    const h = harness();
    const e = h.tracing.startObservation('clicked', { input: 1 }, { asType: 'event' });
    expect(h.records).toHaveLength(1);
    expect(h.tracing.openCount()).toBe(0);
    e.update({ output: 2 });
    e.end();
    expect(h.records).toHaveLength(1);
    expect(h.records[0]!.body.startTimeUnixNano).toBe(h.records[0]!.body.endTimeUnixNano);
  });

  it('methods do not depend on this', () => {
    const h = harness();
    const { update, end, startObservation } = h.tracing.startObservation('op');
    const child = startObservation('child');
    update({ output: 1 });
    child.end();
    end();
    expect(h.records.map((r) => r.body.name)).toEqual(['child', 'op']);
  });

  it('startTime/endTime accept Date, epoch ms and ISO; invalid ones become now with a warning; an end before the start is clamped', () => {
    const h = harness();
    h.tracing.startObservation('a', {}, { startTime: new Date(T0 - 1000) }).end('2026-12-01T12:00:00.500Z');
    h.tracing.startObservation('b', {}, { startTime: T0 - 2000.25 }).end(new Date(T0));
    h.tracing.startObservation('c', {}, { startTime: 'yesterday' }).end('soon');
    h.tracing.startObservation('d', {}, { startTime: T0 }).end(T0 - 5);
    const times = h.records.map((r) => [r.body.startTimeUnixNano, r.body.endTimeUnixNano]);
    expect(times).toEqual([
      ['1796126399000000000', '1796126400500000000'],
      ['1796126397999750000', '1796126400000000000'],
      ['1796126400000000000', '1796126400000000000'],
      ['1796126400000000000', '1796126400000000000'],
    ]);
    expect(h.warns.map((w) => w.detail)).toEqual([
      'startTime: not a Date, epoch ms or ISO string, now used',
      'endTime: not a Date, epoch ms or ISO string, now used',
      'endTime: before the start time, the start time used',
    ]);
  });
});

describe('traces', () => {
  it('trace attributes from the root go on every span of the trace, children included; children point to their parent', () => {
    const h = harness();
    const root = h.tracing.startObservation('turn', { input: 'q' }, {
      trace: { name: 'chat', userId: 'u1', sessionId: 's1', tags: ['a', 'b'], public: true, metadata: { plan: 'pro', n: 2 } },
    });
    const tool = root.startObservation('tool', {}, { asType: 'tool' });
    const llm = tool.startObservation('llm', {}, { asType: 'generation' });
    llm.end();
    tool.end();
    root.end();
    expect(h.records.map((r) => r.body.name)).toEqual(['llm', 'tool', 'turn']);
    for (const r of h.records) {
      expect(r.body.traceId).toBe(root.traceId);
      expect(attrsOf(r)).toMatchObject({
        'langfuse.trace.name': 'chat',
        'user.id': 'u1',
        'session.id': 's1',
        'langfuse.trace.tags': ['a', 'b'],
        'langfuse.trace.public': true,
        'langfuse.trace.metadata.plan': 'pro',
        'langfuse.trace.metadata.n': '2',
      });
    }
    expect(h.records[0]!.body.parentSpanId).toBe(tool.id);
    expect(h.records[1]!.body.parentSpanId).toBe(root.id);
    expect(llm.traceId).toBe(root.traceId);
  });

  it('updateTrace applies to spans that end afterwards, in the same trace only', () => {
    const h = harness();
    const root = h.tracing.startObservation('turn', {}, { trace: { name: 'chat', userId: 'u1' } });
    const early = root.startObservation('early');
    early.end();
    const other = h.tracing.startObservation('other');
    const late = root.startObservation('late');
    late.updateTrace({ userId: 'u2', metadata: { a: 1 }, release: 'r9', version: 'tv' });
    root.updateTrace({ metadata: { b: 2 } });
    late.end();
    other.end();
    root.end();
    const [e, l, o, r] = h.records.map(attrsOf);
    expect(e!['user.id']).toBe('u1');
    expect(e!['langfuse.trace.metadata.a']).toBeUndefined();
    for (const a of [l!, r!]) {
      expect(a).toMatchObject({ 'langfuse.trace.name': 'chat', 'user.id': 'u2', 'langfuse.trace.metadata.a': '1', 'langfuse.trace.metadata.b': '2', 'langfuse.release': 'r9', 'langfuse.version': 'tv' });
    }
    expect(o!['user.id']).toBeUndefined();
    expect(o!['langfuse.trace.name']).toBeUndefined();
  });

  it("trace input/output ride on the root's input/output when it has none of its own, never on children", () => {
    const h = harness();
    const root = h.tracing.startObservation('turn', {}, { trace: { input: { q: 'hi' } } });
    const child = root.startObservation('child');
    child.updateTrace({ output: 'answer' });
    child.end();
    root.end();
    const [c, r] = h.records.map(attrsOf);
    expect(c!['langfuse.observation.input']).toBeUndefined();
    expect(c!['langfuse.observation.output']).toBeUndefined();
    expect(r!['langfuse.observation.input']).toBe('{"q":"hi"}');
    expect(r!['langfuse.observation.output']).toBe('answer');
    for (const a of [c!, r!]) {
      expect(a['langfuse.trace.input']).toBeUndefined();
      expect(a['langfuse.trace.output']).toBeUndefined();
    }
    const own = harness();
    const root2 = own.tracing.startObservation('turn', { input: 'mine' }, { trace: { input: 'trace', output: 'trace-out' } });
    root2.end();
    expect(attrsOf(own.records[0]!)).toMatchObject({ 'langfuse.observation.input': 'mine', 'langfuse.observation.output': 'trace-out' });
    expect(own.warns.map((w) => w.detail)).toEqual([
      "trace.input: the root observation has its own input, which Langfuse shows as the trace's; not sent",
    ]);
  });

  it('trace output set after the root ended, or in a trace whose root is elsewhere, is reported', () => {
    const h = harness();
    const root = h.tracing.startObservation('turn');
    const child = root.startObservation('child');
    root.end();
    child.updateTrace({ output: 'late' });
    child.end();
    expect(h.warns.map((w) => w.detail)).toEqual([expect.stringContaining("trace.output: set after the trace's root observation ended")]);
    const h2 = harness();
    const cont = h2.tracing.startObservation('remote-child', {}, { traceId: 'ab'.repeat(16), parentSpanId: 'cd'.repeat(8) });
    cont.updateTrace({ input: 'x' });
    cont.end();
    expect(h2.warns.map((w) => w.detail)).toEqual([expect.stringContaining("trace.input: this trace's root observation is elsewhere")]);
  });

  it('continues a trace from elsewhere; ids are lowercased; invalid ones are replaced with a warning', () => {
    const h = harness();
    const a = h.tracing.startObservation('a', {}, { traceId: '0AF7651916CD43DD8448EB211C80319C', parentSpanId: 'B7AD6B7169203331' });
    a.end();
    expect(a.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(h.records[0]!.body).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c', parentSpanId: 'b7ad6b7169203331' });
    const b = h.tracing.startObservation('b', {}, { traceId: 'nope', parentSpanId: 'b7ad6b7169203331' });
    b.end();
    expect(b.traceId).toMatch(HEX32);
    expect(h.records[1]!.body.parentSpanId).toBeUndefined();
    const c = h.tracing.startObservation('c', {}, { traceId: '0af7651916cd43dd8448eb211c80319c', parentSpanId: 'xyz' });
    c.end();
    expect(h.records[2]!.body.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(h.records[2]!.body.parentSpanId).toBeUndefined();
    expect(h.warns.map((w) => w.detail)).toEqual([
      'options.traceId: not 32 hex digits, a new trace id used',
      'options.parentSpanId: needs a valid traceId, ignored',
      'options.parentSpanId: not 16 hex digits, ignored',
    ]);
  });

  it('two top-level observations continuing one trace id share its trace attributes', () => {
    const h = harness();
    const traceId = 'ab'.repeat(16);
    const a = h.tracing.startObservation('a', {}, { traceId, trace: { name: 'shared' } });
    const b = h.tracing.startObservation('b', {}, { traceId });
    b.end();
    a.end();
    expect(attrsOf(h.records[0]!)['langfuse.trace.name']).toBe('shared');
  });

  it('keeps no per-trace state after 10 000 traces ended (bounded)', () => {
    const h = harness();
    for (let i = 0; i < 10_000; i++) {
      const root = h.tracing.startObservation('r', {}, { trace: { name: 't', metadata: { i } } });
      const child = root.startObservation('c');
      root.updateTrace({ userId: 'u' });
      child.end();
      root.end();
    }
    expect(h.records).toHaveLength(20_000);
    expect(h.tracing.openCount()).toBe(0);
    // Each ended trace forgets its state: a new observation continuing an old trace id starts with none.
    const first = h.records[0]!.body.traceId;
    h.tracing.startObservation('again', {}, { traceId: first }).end();
    expect(attrsOf(h.records[20_000]!)['langfuse.trace.name']).toBeUndefined();
  });

  it('a child started after its parent ended still gets the trace attributes', () => {
    const h = harness();
    const root = h.tracing.startObservation('r', {}, { trace: { name: 't' } });
    root.end();
    root.startObservation('late').end();
    expect(attrsOf(h.records[1]!)['langfuse.trace.name']).toBe('t');
  });
});

describe('endOpen and the open limit', () => {
  it('endOpen ends every open observation now with WARNING and the message (an ERROR stays ERROR)', () => {
    const h = harness();
    const a = h.tracing.startObservation('a', { statusMessage: 'working' });
    const b = a.startObservation('b', { level: 'ERROR', statusMessage: 'failed' });
    h.tracing.startObservation('done').end();
    h.advance(100);
    expect(h.tracing.openCount()).toBe(2);
    expect(h.tracing.endOpen('outbox: the page went away')).toBe(2);
    expect(h.tracing.openCount()).toBe(0);
    const byName = Object.fromEntries(h.records.map((r) => [r.body.name, r]));
    expect(attrsOf(byName.a!)).toMatchObject({ 'langfuse.observation.level': 'WARNING', 'langfuse.observation.status_message': 'outbox: the page went away; working' });
    expect(attrsOf(byName.b!)['langfuse.observation.level']).toBe('ERROR');
    expect(byName.a!.ts).toBe(T0 + 100);
    a.end();
    b.end();
    expect(h.records).toHaveLength(3);
    expect(h.tracing.endOpen('again')).toBe(0);
  });

  it('past maxOpenObservations the oldest open one is ended early with a warning', () => {
    const h = harness({ maxOpenObservations: 3 });
    const obs = [1, 2, 3, 4].map((i) => h.tracing.startObservation(`o${i}`));
    expect(h.tracing.openCount()).toBe(3);
    expect(h.records.map((r) => r.body.name)).toEqual(['o1']);
    expect(attrsOf(h.records[0]!)['langfuse.observation.level']).toBe('WARNING');
    expect(h.warns[0]).toMatchObject({ id: obs[0]!.id, detail: 'observation: more than 3 open, ended early' });
  });
});

describe('mask', () => {
  it('runs at end() on input, output and metadata of the observation and the trace', () => {
    const seen: unknown[] = [];
    const h = harness({
      mask: ({ data }) => {
        seen.push(data);
        return typeof data === 'string' ? data.replace(/\d/g, '#') : { masked: true };
      },
    });
    const o = h.tracing.startObservation('op', { input: 'card 4242' }, { trace: { metadata: { secret: 1 }, output: 'pin 1234' } });
    o.update({ metadata: { x: 1 } });
    expect(seen).toEqual([]);
    o.end();
    expect(attrsOf(h.records[0]!)).toMatchObject({
      'langfuse.observation.input': 'card ####',
      'langfuse.observation.output': 'pin ####',
      'langfuse.observation.metadata': '{"masked":true}',
      'langfuse.trace.metadata.masked': 'true',
    });
    expect(seen).toHaveLength(4);
  });

  it('a mask that throws replaces that value with a marker and warns; the span is still emitted', () => {
    const h = harness({
      mask: ({ data }) => {
        if (data === 'secret') throw new Error('mask bug');
        return data;
      },
    });
    h.tracing.startObservation('op', { input: 'secret', output: 'fine' }).end();
    expect(h.records).toHaveLength(1);
    expect(attrsOf(h.records[0]!)).toMatchObject({ 'langfuse.observation.input': '[outbox: mask failed]', 'langfuse.observation.output': 'fine' });
    expect(h.warns.map((w) => w.detail)).toEqual(['input: mask threw, value replaced by a marker']);
  });
});

describe('hostile values: the span is still emitted, the value replaced by a marker, a warning names the field', () => {
  function circular() {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    return a;
  }
  const throwingGetter = {
    ok: 1,
    get bad(): unknown {
      throw new Error('getter');
    },
  };
  const throwingToJson = { toJSON: () => { throw new Error('toJSON'); } };
  const hostileProxy = new Proxy({}, {
    ownKeys() {
      throw new Error('trap');
    },
    get() {
      throw new Error('trap');
    },
  });
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();

  it.each<[string, unknown, string, string]>([
    ['circular', circular(), '{"name":"a","self":"[outbox: circular reference]"}', 'output: circular reference'],
    ['BigInt', { n: 10n, ok: true }, '{"n":"10","ok":true}', 'output: BigInt written as a string'],
    ['a function', () => 1, '[outbox: not JSON-serializable]', 'output: not JSON-serializable (function)'],
    ['a symbol', Symbol('s'), '[outbox: not JSON-serializable]', 'output: not JSON-serializable (symbol)'],
    ['nested functions and symbols (JSON drops them, no warning)', { f() {}, s: Symbol('x'), a: [() => 1] }, '{"a":[null]}', ''],
    ['a throwing getter', throwingGetter, '{"ok":1,"bad":"[outbox: unreadable value]"}', 'output: unreadable value'],
    ['a throwing toJSON', { inner: throwingToJson }, '{"inner":"[outbox: toJSON threw]"}', 'output: toJSON threw'],
    ['a hostile Proxy', hostileProxy, '[outbox: unreadable value]', 'output: unreadable value'],
    ['a throwing toJSON at the top', throwingToJson, '[outbox: toJSON threw]', 'output: toJSON threw'],
    ['deep nesting', (() => { let v: unknown = 1n; for (let i = 0; i < 100; i++) v = [v]; return v; })(), '['.repeat(64) + '"[outbox: nested too deep]"' + ']'.repeat(64), 'output: nested too deep'],
    ['a revoked Proxy', { p: revoked.proxy }, '{"p":"[outbox: unreadable value]"}', 'output: unreadable value'],
    ['a lone surrogate in a string', 'a\ud800b', 'a\ufffdb', 'output: lone surrogate replaced by U+FFFD'],
    ['a lone surrogate inside JSON', { s: 'x\udc00', ok: '😀', lit: '\\ud800' }, '{"s":"x\ufffd","ok":"😀","lit":"\\\\ud800"}', 'output: lone surrogate replaced by U+FFFD'],
    ['a 5 MB string', 'x'.repeat(5 * 1024 * 1024), '[outbox: value over 65536 bytes dropped]', 'output: over 65536 bytes, replaced by a marker'],
    ['a 5 MB object', { big: 'é'.repeat(2.5 * 1024 * 1024) }, '[outbox: value over 65536 bytes dropped]', 'output: over 65536 bytes, replaced by a marker'],
  ])('output is %s', (_name, value, text, warning) => {
    const h = harness();
    const o = h.tracing.startObservation('op', { input: 'fine' });
    expect(() => {
      o.update({ output: value });
      o.end();
    }).not.toThrow();
    expect(h.records).toHaveLength(1);
    const a = attrsOf(h.records[0]!);
    expect(a['langfuse.observation.input']).toBe('fine');
    expect(a['langfuse.observation.output']).toBe(text);
    expect(h.warns.map((w) => w.detail)).toEqual(warning === '' ? [] : [warning]);
    if (warning) expect(h.warns[0]).toMatchObject({ id: o.id, type: 'span' });
    expect(JSON.parse(JSON.stringify(h.records[0]!.body)).spanId).toBe(o.id);
  });

  it('10 000 metadata keys are cut to 200 with a warning', () => {
    const h = harness();
    const metadata = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, i]));
    h.tracing.startObservation('op', { metadata }, { trace: { metadata } }).end();
    const a = attrsOf(h.records[0]!);
    const kept = JSON.parse(a['langfuse.observation.metadata'] as string);
    expect(Object.keys(kept)).toHaveLength(200);
    expect(kept.k199).toBe(199);
    expect(Object.keys(a).filter((k) => k.startsWith('langfuse.trace.metadata.'))).toHaveLength(200);
    expect(h.warns.map((w) => w.detail).sort()).toEqual([
      'metadata: 9800 keys over the limit of 200 dropped',
      'trace.metadata: 9800 keys over the limit of 200 dropped',
    ]);
  });

  it('merging metadata by update stays capped at 200 keys', () => {
    const h = harness();
    const o = h.tracing.startObservation('op', { metadata: Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`a${i}`, i])) });
    o.update({ metadata: Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`b${i}`, i])) });
    o.end();
    expect(Object.keys(JSON.parse(attrsOf(h.records[0]!)['langfuse.observation.metadata'] as string))).toHaveLength(200);
    expect(h.warns.map((w) => w.detail)).toEqual(['attributes.metadata: 100 keys over the limit of 200 dropped']);
  });

  it('a __proto__ metadata key stays data', () => {
    const h = harness();
    const o = h.tracing.startObservation('op', { metadata: JSON.parse('{"__proto__":{"polluted":1},"a":1}') });
    o.update({ metadata: { b: 2 } });
    o.end();
    expect(JSON.parse(attrsOf(h.records[0]!)['langfuse.observation.metadata'] as string)).toEqual(JSON.parse('{"__proto__":{"polluted":1},"a":1,"b":2}'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a hostile attributes object, options object or trace object costs only the keys it hides', () => {
    const h = harness();
    const attributes = new Proxy({ input: 'kept' } as Record<string, unknown>, {
      get(target, key) {
        if (key === 'output') throw new Error('trap');
        return target[key as string];
      },
    });
    const options = {
      asType: 'tool',
      get trace(): never {
        throw new Error('trap');
      },
    };
    expect(() => h.tracing.startObservation('op', attributes as never, options as never).end()).not.toThrow();
    expect(h.records).toHaveLength(1);
    expect(h.records[0]!.type).toBe('tool');
    expect(attrsOf(h.records[0]!)['langfuse.observation.input']).toBe('kept');
    expect(h.warns.map((w) => w.detail)).toEqual(['options.trace: getter threw, ignored', 'attributes.output: getter threw, ignored']);
  });

  it('wrong types everywhere never throw and still emit', () => {
    const h = harness();
    const o = h.tracing.startObservation(42 as never, 'nope' as never, { asType: 'GENERATION' as never, startTime: {} as never });
    o.update(null as never);
    o.update(7 as never);
    o.updateTrace({ tags: 'x' as never, public: 'yes' as never, userId: { id: 1 } as never, name: 5 as never });
    o.update({ statusMessage: ['x'], prompt: { name: 'p' } } as never);
    o.end({} as never);
    expect(h.records).toHaveLength(1);
    const a = attrsOf(h.records[0]!);
    expect(h.records[0]!.body.name).toBe('42');
    expect(a['langfuse.observation.type']).toBe('span');
    expect(a['langfuse.trace.name']).toBe('5');
    expect(a['langfuse.trace.tags']).toEqual([]);
    expect(h.warns.map((w) => w.detail)).toEqual([
      "options.asType: not an observation type, 'span' used",
      'startTime: not a Date, epoch ms or ISO string, now used',
      'attributes: not an object, ignored',
      'attributes: not an object, ignored',
      'endTime: not a Date, epoch ms or ISO string, now used',
      'trace.userId: not a string, dropped',
      'trace.tags: entries that are not strings dropped',
      'trace.public: not a boolean, dropped',
      'statusMessage: not a string, dropped',
      'prompt: only generation and embedding observations carry it, dropped',
    ]);
    const empty = h.tracing.startObservation(undefined as never);
    empty.end();
    expect(h.records[1]!.body.name).toBe('observation');
  });

  it('throwing deps (clock, fill, emit, warn, log) never reach the host', () => {
    const boom = () => {
      throw new Error('dep');
    };
    const tracing = createTracing({ emit: boom, now: boom, fill: boom, log: boom, warn: boom });
    expect(() => {
      const o = tracing.startObservation('op', { output: 1n }, { traceId: 'bad' });
      o.end();
      o.end();
      tracing.endOpen('gone');
    }).not.toThrow();
  });

  it('no KeyValue is ever emitted without a value', () => {
    const h = harness({ environment: '', release: undefined });
    const o = h.tracing.startObservation('op', { input: undefined, output: null, level: undefined, statusMessage: null as never, metadata: {} }, { asType: 'generation', trace: { name: undefined, userId: null as never, tags: [] } });
    o.update({ usageDetails: {}, costDetails: { x: NaN }, model: null as never });
    o.end();
    for (const kv of h.records[0]!.body.attributes) {
      expect(kv.value).toBeDefined();
      expect(Object.values(kv.value).filter((v) => v !== undefined)).toHaveLength(1);
    }
    expect(Object.keys(attrsOf(h.records[0]!)).sort()).toEqual([
      'langfuse.internal.is_app_root',
      'langfuse.observation.metadata',
      'langfuse.observation.output',
      'langfuse.observation.type',
      'langfuse.trace.tags',
    ]);
  });
});

describe('span byte budget (maxSpanBytes)', () => {
  it('replaces the largest values until the span fits, so it is sent instead of dropped whole', () => {
    const h = harness({ maxSpanBytes: 100_000 });
    const big = 'a'.repeat(60_000);
    h.tracing.startObservation('op', { input: big, output: big + 'b', metadata: { small: 1 } }).end();
    const r = h.records[0]!;
    const line = JSON.stringify(r.body);
    expect(new TextEncoder().encode(line).length).toBeLessThanOrEqual(100_000);
    const a = attrsOf(r);
    expect(a['langfuse.observation.output']).toBe('[outbox: value dropped, span over 100000 bytes]');
    expect(a['langfuse.observation.input']).toBe(big);
    expect(a['langfuse.observation.metadata']).toBe('{"small":1}');
    expect(h.warns.map((w) => w.detail)).toEqual(['langfuse.observation.output: the span is over 100000 bytes, value replaced by a marker']);
  });

  it('counts JSON escapes (control characters take six bytes)', () => {
    const h = harness({ maxSpanBytes: 50_000 });
    h.tracing.startObservation('op', { input: '\u0001'.repeat(10_000) }).end();
    expect(new TextEncoder().encode(JSON.stringify(h.records[0]!.body)).length).toBeLessThanOrEqual(50_000);
    expect(attrsOf(h.records[0]!)['langfuse.observation.input']).toBe('[outbox: value dropped, span over 50000 bytes]');
  });

  it('leaves a span under the budget alone', () => {
    const h = harness({ maxSpanBytes: 100_000 });
    h.tracing.startObservation('op', { input: 'x'.repeat(10_000) }).end();
    expect(attrsOf(h.records[0]!)['langfuse.observation.input']).toBe('x'.repeat(10_000));
    expect(h.warns).toEqual([]);
  });
});

describe('span byte budget and shared trace attributes', () => {
  it('a marker on one span does not change the trace attributes of its siblings', () => {
    const h = harness({ maxSpanBytes: 100_000 });
    const root = h.tracing.startObservation('r', {}, { trace: { metadata: { doc: 'd'.repeat(60_000) } } });
    root.startObservation('small').end();
    root.startObservation('big', { input: 'i'.repeat(50_000) }).end();
    root.startObservation('small2').end();
    root.end();
    const [small, big, small2] = h.records.map(attrsOf);
    expect(small!['langfuse.trace.metadata.doc']).toBe('d'.repeat(60_000));
    expect(big!['langfuse.trace.metadata.doc']).toBe('[outbox: value dropped, span over 100000 bytes]');
    expect(big!['langfuse.observation.input']).toBe('i'.repeat(50_000));
    expect(small2!['langfuse.trace.metadata.doc']).toBe('d'.repeat(60_000));
  });
});

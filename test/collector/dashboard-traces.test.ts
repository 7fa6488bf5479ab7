/**
 * The dashboard's traces panel (demo/public/traces.js) against a real collector, with a minimal fake DOM (the
 * repository has no DOM library; the Playwright demo spec covers the real page). Checks the tree shape, the
 * facts shown, scores beside their trace, and that hostile names stay text: the fake element refuses innerHTML.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';

class FakeElement {
  tagName: string;
  className = '';
  dataset: Record<string, string> = {};
  children: (FakeElement | string)[] = [];
  private text = '';
  constructor(tag: string) {
    this.tagName = tag.toUpperCase();
  }
  get textContent(): string {
    return this.children.length ? this.children.map((c) => (typeof c === 'string' ? c : c.textContent)).join('') : this.text;
  }
  set textContent(v: string) {
    this.children = [];
    this.text = v;
  }
  set innerHTML(_v: string) {
    throw new Error('innerHTML used');
  }
  append(...nodes: (FakeElement | string)[]) {
    this.children.push(...nodes);
  }
  replaceChildren(...nodes: (FakeElement | string)[]) {
    this.children = nodes;
  }
  /** Elements below this one with the class, depth first. */
  all(className: string): FakeElement[] {
    const out: FakeElement[] = [];
    for (const c of this.children) {
      if (typeof c === 'string') continue;
      if (c.className.split(' ').includes(className)) out.push(c);
      out.push(...c.all(className));
    }
    return out;
  }
  /** Direct child elements of a tag. */
  kids(tag: string) {
    return this.children.filter((c): c is FakeElement => typeof c !== 'string' && c.tagName === tag.toUpperCase());
  }
}

const BASIC = `Basic ${Buffer.from('pk:sk').toString('base64')}`;
const T = 'c'.repeat(32);
const id = (n: number) => n.toString(16).padStart(16, '0');
const str = (key: string, v: string) => ({ key, value: { stringValue: v } });
function span(n: number, name: string, parent: number | null, attributes: { key: string; value: unknown }[] = [], status = {}) {
  const start = 1_700_000_000_000_000_000n + BigInt(n) * 1_000_000n;
  return {
    traceId: T,
    spanId: id(n),
    ...(parent !== null ? { parentSpanId: id(parent) } : {}),
    name,
    startTimeUnixNano: String(start),
    endTimeUnixNano: String(start + 250_000_000n),
    attributes,
    status,
  };
}

let c: Collector;
interface TracesModule {
  createTracesPanel(container: unknown): { update(stats: unknown): Promise<void> };
  traceElement(trace: unknown): unknown;
}
let traces: TracesModule;
beforeAll(async () => {
  vi.stubGlobal('document', { createElement: (tag: string) => new FakeElement(tag) });
  c = await startCollector();
  const realFetch = globalThis.fetch;
  vi.stubGlobal('fetch', (url: string, init?: RequestInit) => realFetch(new URL(url, c.url), init));
  const path = '../../demo/public/traces.js'; // plain JS without types, loaded as the page loads it
  traces = (await import(path)) as TracesModule;
});
afterAll(async () => {
  vi.unstubAllGlobals();
  await c.close();
});

describe('dashboard traces panel', () => {
  it('renders a trace as a tree with badges, durations, model and tokens, levels and scores, all as text', async () => {
    const hostile = '<img src=x onerror="window.__pwned=1">';
    const spans = [
      span(1, 'turn', null, [str('langfuse.trace.name', 'chat'), str('user.id', 'u-1'), str('session.id', 's-1'), str('langfuse.environment', 'staging')]),
      span(2, 'llm', 1, [str('langfuse.observation.model.name', 'gpt-4o'), str('langfuse.observation.usage_details', '{"input":12,"output":30}')]),
      span(3, hostile, 2, [str('langfuse.observation.type', 'tool'), str('langfuse.observation.level', 'WARNING')]),
      span(4, 'failing', 1, [], { code: 2, message: 'boom' }),
    ];
    const res = await fetch(c.otlpEndpoint, { method: 'POST', headers: { 'content-type': 'application/json', authorization: BASIC }, body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] }) });
    expect(res.status).toBe(200);
    const score = { id: 'sc', type: 'score-create', timestamp: new Date().toISOString(), body: { name: hostile, value: 1, traceId: T } };
    await fetch(c.endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ batch: [score] }) });

    const container = new FakeElement('div');
    const panel = traces.createTracesPanel(container);
    await panel.update(c.stats());
    const [trace, ...others] = container.kids('article');
    expect(others).toEqual([]);
    expect(trace!.all('trace-name')[0]!.textContent).toBe('chat');
    expect(trace!.all('trace-facts')[0]!.textContent).toBe('user u-1 · session s-1 · env staging · 253 ms');
    expect(trace!.all('score').map((s) => s.textContent)).toEqual([`${hostile} = 1`]);

    // turn → (llm → tool), failing
    const [root] = trace!.all('tree')[0]!.kids('li');
    const line = (li: FakeElement) => li.kids('div')[0]!;
    expect(line(root!).all('obs-name')[0]!.textContent).toBe('turn');
    const [llm, failing] = root!.kids('ul')[0]!.kids('li');
    expect(line(llm!).all('badge')[0]!.dataset.type).toBe('generation');
    expect(line(llm!).all('obs-model')[0]!.textContent).toBe('gpt-4o · 12 input / 30 output / 42 total tokens');
    expect(line(llm!).all('obs-duration')[0]!.textContent).toBe('250 ms');
    const [tool] = llm!.kids('ul')[0]!.kids('li');
    expect(line(tool!).all('obs-name')[0]!.textContent).toBe(hostile);
    expect(tool!.dataset.level).toBe('WARNING');
    expect(failing!.dataset.level).toBe('ERROR');
    expect(line(failing!).all('obs-status')[0]!.textContent).toBe('boom');
  });

  it('a parent cycle is drawn once per observation, never endlessly', () => {
    const obs = (n: string, parent: string | null) => ({ id: n, parentObservationId: parent, type: 'span', name: n, startTime: 0, endTime: 1, level: 'DEFAULT' });
    const el = traces.traceElement({
      id: 't', name: 'cyclic', environment: 'default', startTime: 0, endTime: 1,
      observations: [obs('a', 'b'), obs('b', 'a'), obs('self', 'self'), obs('orphan', 'missing')],
      scores: [],
    }) as unknown as FakeElement;
    const names = el.all('obs-name').map((n) => n.textContent).sort();
    expect(names).toEqual(['a', 'b', 'orphan', 'self']);
  });
});

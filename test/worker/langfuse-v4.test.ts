// The Workers entry in real workerd (miniflare 4) tracing to the collector in Langfuse v4 mode over real HTTP:
// traces as OTLP with the secret key from env, scores on /ingestion, everything after the response.
import type { Miniflare } from 'miniflare';
import { startWorkerd, type Workerd } from '../helpers/workerd';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';

let collector: Collector;
let mf: Miniflare;
let workerd: Workerd;

beforeAll(async () => {
  collector = await startCollector({ langfuse: 'v4', publicKeys: ['pk-lf-w'], secretKeys: ['sk-lf-w'] });
  workerd = await startWorkerd({ entry: 'test/worker/fixtures/trace-app.ts', bindings: { LANGFUSE_BASE_URL: collector.url, LANGFUSE_PUBLIC_KEY: 'pk-lf-w', LANGFUSE_SECRET_KEY: 'sk-lf-w' } });
  mf = workerd.mf;
});

afterAll(async () => {
  await workerd?.dispose();
  await collector?.close();
});

describe('Langfuse v4 from a Worker', () => {
  it('a traced request: every observation stored once with its type, parent, trace name, user, session, model and usage; scores beside it', async () => {
    const res = await mf.dispatchFetch('http://worker/turn?req=7');
    const ids = (await res.json()) as { traceId: string; llm: string; agent: string; turn: string };
    await collector.waitFor((c) => (c.observations({ traceId: ids.traceId }).length === 5 && c.scores({ traceId: ids.traceId }).length === 2 ? true : null), 15_000);
    const obs = collector.observations({ traceId: ids.traceId });
    expect(obs).toHaveLength(5);
    const by = (name: string) => obs.find((o) => o.name === name)!;
    const trace = { name: 'chat', userId: 'u-7', sessionId: 's-w' };
    expect(by('turn-7')).toMatchObject({ type: 'span', parentObservationId: null, trace });
    expect(by('llm')).toMatchObject({ type: 'generation', parentObservationId: ids.turn, model: 'gpt-4o-mini', trace });
    expect(by('llm').usageDetails).toMatchObject({ input: 3, output: 5, total: 8 });
    expect(by('agent')).toMatchObject({ type: 'agent', parentObservationId: ids.turn, trace });
    expect(by('tool')).toMatchObject({ type: 'tool', parentObservationId: ids.agent, trace });
    expect(by('done')).toMatchObject({ type: 'event', parentObservationId: ids.turn, trace });
    const scores = collector.scores({ traceId: ids.traceId });
    expect(scores.map((s) => s.name).sort()).toEqual(['quality', 'thumbs']);
    expect(scores.find((s) => s.name === 'thumbs')).toMatchObject({ observationId: ids.llm, value: 1 });
    expect(collector.stats()).toMatchObject({ spanDuplicates: 0 });
    expect(collector.requests().every((r) => r.status === 200 || r.status === 207)).toBe(true);
  });

  it('20 concurrent traced requests: 100 observations and 40 scores, none twice', async () => {
    collector.reset();
    await Promise.all(Array.from({ length: 20 }, (_, i) => mf.dispatchFetch(`http://worker/turn?req=${100 + i}`).then((r) => r.arrayBuffer())));
    await collector.waitFor((c) => (c.observations().length === 100 && c.scores().length === 40 ? true : null), 20_000);
    expect(collector.stats()).toMatchObject({ spanDuplicates: 0 });
    expect(new Set(collector.observations().map((o) => o.id)).size).toBe(100);
  });
});

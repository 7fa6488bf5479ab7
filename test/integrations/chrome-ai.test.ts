// observeLanguageModel against a stand-in of the Prompt API session (test/integrations/prompt-api-stand-in.ts says
// what it is built from; no on-device model can run here), recording through a real Outbox client to the collector.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCollector, type Collector, type StoredObservation } from '../../demo/collector/server.mjs';
import { observeLanguageModel } from '../../src/integrations/chrome-ai';
import { createOutbox, type Outbox } from '../../src/node';
import { StandInLanguageModel } from './prompt-api-stand-in';

let collector: Collector;
let outbox: Outbox;
beforeAll(async () => {
  collector = await startCollector({ langfuse: 'v4' });
});
beforeEach(async () => {
  await outbox?.shutdown();
  collector.reset();
  outbox = createOutbox({ publicKey: 'pk-lf-chrome', secretKey: 'sk-lf-chrome', baseUrl: collector.url, flushInterval: 3600 });
});
afterAll(async () => {
  await outbox?.shutdown();
  await collector?.close();
});

async function stored(n: number): Promise<StoredObservation[]> {
  await outbox.flush();
  await collector.waitFor((c) => c.observations().length >= n);
  const all = [...collector.observations()].sort((a, b) => a.startTime - b.startTime);
  expect(all).toHaveLength(n);
  expect(Object.values(collector.spanArrivals()).every((count) => count === 1)).toBe(true);
  return all;
}

async function readAll(stream: ReadableStream<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<string>) out.push(chunk);
  return out;
}

describe('observeLanguageModel (Prompt API stand-in)', () => {
  it('prompt(): one generation with usage from context usage before/after, the provider, parameters; no content by default', async () => {
    const plain = await StandInLanguageModel.create({ temperature: 0.7, topK: 5 });
    const session = observeLanguageModel(await StandInLanguageModel.create({ temperature: 0.7, topK: 5 }), { outbox, traceName: 'on-device', userId: 'u-1' });
    const prompt = 'the quick brown fox';
    expect(await session.prompt(prompt)).toBe(await plain.prompt(prompt));
    expect(session.contextUsage).toBe(plain.contextUsage);
    const [gen] = await stored(1);
    expect(gen).toMatchObject({
      name: 'LanguageModel.prompt',
      type: 'generation',
      model: null,
      input: null,
      output: null,
      usageDetails: { input: 4, output: 5, total: 9 },
      modelParameters: { temperature: 0.7, topK: 5, contextWindow: 4096 },
      completionStartTime: null,
      trace: { name: 'on-device', userId: 'u-1' },
    });
    expect(gen!.metadata).toMatchObject({ provider: 'browser built-in (Prompt API)', contentCaptured: 'false', contextUsage: '9', contextUsageBefore: '0' });
  });

  it('promptStreaming(): the same chunks as the unwrapped session, completion start at the first chunk, content when captureContent', async () => {
    const plain = await StandInLanguageModel.create();
    const session = observeLanguageModel(await StandInLanguageModel.create(), { outbox, captureContent: true });
    await session.append('system says hi'); // context before the call: usage counts only this call
    await plain.append('system says hi');
    const want = await readAll(plain.promptStreaming('tell me a story'));
    const got = await readAll(session.promptStreaming('tell me a story'));
    expect(got).toEqual(want);
    expect(got.join('')).toBe('Echo: tell me a story');
    const [gen] = await stored(1);
    expect(gen).toMatchObject({ name: 'LanguageModel.promptStreaming', input: 'tell me a story', output: 'Echo: tell me a story', usageDetails: { input: 4, output: 5, total: 9 }, level: 'DEFAULT' });
    expect(gen!.completionStartTime).toBeGreaterThanOrEqual(gen!.startTime);
    expect(gen!.completionStartTime).toBeLessThanOrEqual(gen!.endTime);
  });

  it('the older names (inputUsage, inputQuota, measureInputUsage) give the same usage', async () => {
    const session = observeLanguageModel(await StandInLanguageModel.create({ legacyNames: true, contextWindow: 100 }), { outbox });
    expect(session.inputQuota).toBe(100);
    await session.prompt('one two three');
    const [gen] = await stored(1);
    expect(gen).toMatchObject({ usageDetails: { input: 3, output: 4, total: 7 }, modelParameters: { contextWindow: 100 } });
  });

  it('a cancelled stream, an aborted prompt and a context overflow each end exactly one generation; clone() is observed too', async () => {
    const session = observeLanguageModel(await StandInLanguageModel.create({ contextWindow: 30 }), { outbox, captureContent: true });
    const chunks: string[] = [];
    for await (const chunk of session.promptStreaming('a b c d e f') as unknown as AsyncIterable<string>) {
      chunks.push(chunk);
      if (chunks.length === 2) break; // cancels the stream
    }
    const ac = new AbortController();
    const aborted = session.prompt('abort me please', { signal: ac.signal });
    ac.abort(new DOMException('user left', 'AbortError'));
    await expect(aborted).rejects.toThrow('user left');
    await expect(session.prompt('x '.repeat(40))).rejects.toThrow('too large');
    const copy = await session.clone();
    await copy.prompt('from the clone');
    const [cancelled, abortedGen, overflow, cloned] = await stored(4);
    expect(cancelled).toMatchObject({ level: 'WARNING', output: 'Echo: a' });
    expect(cancelled!.statusMessage).toMatch(/^cancelled by the app/);
    expect(abortedGen).toMatchObject({ level: 'WARNING' });
    expect(abortedGen!.statusMessage).toContain('user left');
    expect(overflow).toMatchObject({ level: 'ERROR' });
    expect(overflow!.statusMessage).toContain('QuotaExceededError');
    expect(cloned).toMatchObject({ name: 'LanguageModel.prompt', output: 'Echo: from the clone', level: 'DEFAULT' });
  });

  it('throws at creation without an outbox', () => {
    expect(() => observeLanguageModel(new StandInLanguageModel(), {} as never)).toThrow(/config\.outbox/);
  });
});

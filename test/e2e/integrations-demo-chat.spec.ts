// The demo's model chat as a user runs it: `node demo/main.mjs` on a free port, the page's "ask the model" button
// (the real `openai` package wrapped by outbox/openai, streaming from the demo's local OpenAI-compatible server),
// then the generation in the collector (through the relay) and in the traces panel, with usage and TTFT.
import { expect, test } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

test('the demo chat streams an answer and records one generation with model, usage and time to first token', async ({ page }) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'outbox-demo-chat-'));
  const child = spawn(process.execPath, [path.join(root, 'demo/main.mjs'), '--port', '0', '--data', dataDir], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await expect.poll(() => /Outbox demo: (\S+)/.exec(out)?.[1] ?? '', { timeout: 30_000, intervals: [100] }).not.toBe('');
    const url = /Outbox demo: (\S+)/.exec(out)![1]!.replace(/\/$/, '');
    await page.goto(`${url}/`);
    await page.fill('#llm-question', 'Is every span kept?');
    await page.click('#llm-ask');
    await expect(page.locator('#llm-answer')).toHaveText('You said: Is every span kept?', { timeout: 20_000 });
    const generations = async () => {
      const res = await fetch(`${url}/control/observations?type=generation&name=OpenAI.chat`);
      return ((await res.json()) as { observations: Record<string, any>[] }).observations;
    };
    await expect.poll(async () => (await generations()).length, { timeout: 15_000 }).toBe(1);
    const [generation] = await generations();
    expect(generation).toMatchObject({ model: 'demo-model', arrivals: 1, trace: { name: 'llm-chat', userId: 'demo-user' } });
    expect(generation!.usageDetails.total).toBeGreaterThan(0);
    expect(generation!.completionStartTime).toBeGreaterThan(generation!.startTime);
    expect(generation!.completionStartTime).toBeLessThan(generation!.endTime);
    // The traces panel shows it with its usage and TTFT.
    await expect(page.locator('#traces')).toContainText('OpenAI.chat', { timeout: 15_000 });
    await expect(page.locator('#traces')).toContainText(/demo-model · .*tokens · TTFT \d+ ms/);
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
});

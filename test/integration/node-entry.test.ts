import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../demo/collector/server.mjs';

const root = path.resolve(import.meta.dirname, '../..');
let collector: Collector;

beforeAll(async () => {
  if (!existsSync(path.join(root, 'dist/node.js'))) execFileSync(process.execPath, ['scripts/build.mjs', '--no-types'], { cwd: root });
  collector = await startCollector();
});
afterAll(() => collector.close());

describe("import 'outbox' in Node", () => {
  it('resolves to the memory build, reads OUTBOX_* from process.env, and touches no browser global', async () => {
    // Every browser global throws if touched; the script imports the package by name, as a user would.
    const script = `
      for (const name of ['window', 'document', 'navigator', 'indexedDB', 'location', 'self', 'caches', 'localStorage']) {
        Object.defineProperty(globalThis, name, { configurable: true, get() { throw new Error('touched ' + name); } });
      }
      const { createOutbox } = await import('outbox');
      const outbox = createOutbox({ flushAt: 2 });
      outbox.track('node', { ok: true });
      outbox.track('node', { ok: true });
      await outbox.shutdown();
      console.log(JSON.stringify(outbox.stats()));
    `;
    // Asynchronous: the collector runs in this process and must keep answering.
    const { stdout: output } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      env: { ...process.env, OUTBOX_ENDPOINT: collector.endpoint, OUTBOX_PUBLIC_KEY: 'pk-env' },
      encoding: 'utf8',
    });
    expect(JSON.parse(output)).toMatchObject({ sent: 2, tracked: 2 });
    expect(collector.stats().eventsStored).toBe(2);
    expect(collector.requests()[0]!.auth).toBe('bearer');
  });

  it('an invalid option throws at creation, naming the option', () => {
    const script = `
      const { createOutbox } = await import('outbox');
      try { createOutbox({ endpoint: 'http://x/api/public/ingestion', flushAt: 'abc' }); } catch (e) { console.log(e.name + ': ' + e.message); }
    `;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(output.trim()).toBe('OutboxOptionsError: createOutbox: invalid options: flushAt must be an integer from 1 to 10000, got "abc"');
  });
});

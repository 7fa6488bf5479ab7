// `npm run collector` / `npm run demo` as a user starts them: the collector's dashboard at /, Langfuse v4 by
// default, and one line saying what to do for a busy port or for `npm run … --port N` without `--`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const dataDir = mkdtempSync(path.join(tmpdir(), 'outbox-cli-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Runs a script until it prints a line matching `until` (then kills it) or exits; resolves with its output. */
function run(script: string, args: string[], env: Record<string, string>, until?: RegExp): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [path.join(root, script), ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env } });
  let out = '';
  let err = '';
  return new Promise((resolve) => {
    const check = () => {
      if (until && until.test(out)) child.kill('SIGINT');
    };
    child.stdout.on('data', (c: Buffer) => ((out += c.toString()), check()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('npm run collector', () => {
  it('serves its dashboard at / and answers /ingestion as Langfuse v4 by default', async () => {
    const child = spawn(process.execPath, [path.join(root, 'demo/collector/main.mjs'), '--port', '0', '--db', path.join(dataDir, 'c.sqlite')], { cwd: root });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /dashboard (http:\/\/\S+)\//.exec(out);
          if (m) resolve(m[1]!);
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>Outbox collector</title>');
      const answer = await fetch(`${url}/api/public/ingestion`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Basic ${btoa('pk:sk')}` },
        body: JSON.stringify({ batch: [{ id: 'e1', type: 'trace-create', timestamp: new Date().toISOString(), body: { id: 't1' } }] }),
      });
      expect(answer.status).toBe(207);
      expect(JSON.stringify(await answer.json())).toContain('Event type not accepted'); // v4: traces only as OTLP
    } finally {
      child.kill('SIGINT');
    }
  });

  it('a busy port: one line saying which port and what to do, exit 2', async () => {
    const blocker = http.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const r = await run('demo/collector/main.mjs', ['--port', String(port), '--db', path.join(dataDir, 'busy.sqlite')], { npm_lifecycle_event: 'collector' });
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toEqual([`collector: port ${port} is busy (another program listens on it); pick another: npm run collector -- --port ${port + 1}`]);
    } finally {
      blocker.close();
    }
  });

  it('`npm run demo --port N` without `--`: one line saying how to write it, exit 2', async () => {
    // What npm 11 leaves a script when the flag comes before `--`: npm_config_port=true, and the number in argv.
    const r = await run('demo/main.mjs', ['5050'], { npm_config_port: 'true', npm_lifecycle_event: 'demo', DATA_DIR: dataDir });
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe('demo: npm kept --port for itself; to pass it on, write: npm run demo -- --port 5050');
  });
});

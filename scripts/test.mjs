// `npm test`: build, typecheck, size budgets, Node tests (vitest: unit, collector, integration, workerd), then the
// browser tests (Playwright + Chromium). Prints one closing line: "tests: N passed, N failed".
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findChromium } from './chromium.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'test-results');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

function run(label, cmd, args, env = {}) {
  console.log(`\n== ${label}: ${[path.basename(cmd), ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status === 0;
}

let passed = 0;
let failed = 0;
const steps = [];

function step(label, ok) {
  steps.push(`${ok ? 'ok  ' : 'FAIL'} ${label}`);
  if (!ok) failed++;
}

step('build', run('build', process.execPath, ['scripts/build.mjs']));
step('typecheck', run('typecheck', bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']));
step('typecheck (worker)', run('typecheck worker', bin('tsc'), ['--noEmit', '-p', 'tsconfig.worker.json']));
step('typecheck (service worker)', run('typecheck (service worker)', bin('tsc'), ['--noEmit', '-p', 'tsconfig.sw.json']));
if (existsSync(path.join(root, 'scripts/size.mjs'))) step('size budgets', run('size budgets', process.execPath, ['scripts/size.mjs']));

const vitestJson = path.join(out, 'vitest.json');
const vitestOk = run('node tests (vitest)', bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestJson}`]);
if (existsSync(vitestJson)) {
  const r = JSON.parse(readFileSync(vitestJson, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  steps.push(`${vitestOk ? 'ok  ' : 'FAIL'} vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
  if (!vitestOk && r.numFailedTests === 0) failed++;
} else step('vitest (no report)', false);

let chromium;
try {
  chromium = await findChromium();
} catch (e) {
  console.error(`\n${e.message}`);
  step('chromium', false);
}
if (chromium) {
  const pwJson = path.join(out, 'playwright.json');
  const pwOk = run('browser tests (playwright)', bin('playwright'), ['test', '--reporter=list,json'], {
    CHROMIUM_PATH: chromium,
    PLAYWRIGHT_JSON_OUTPUT_NAME: pwJson,
  });
  if (existsSync(pwJson)) {
    const s = JSON.parse(readFileSync(pwJson, 'utf8')).stats;
    const bad = s.unexpected;
    passed += s.expected + (s.flaky ?? 0);
    failed += bad;
    steps.push(`${pwOk ? 'ok  ' : 'FAIL'} playwright: ${s.expected + (s.flaky ?? 0)} passed, ${bad} failed, ${s.skipped} skipped`);
    if (!pwOk && bad === 0) failed++;
  } else step('playwright (no report)', false);
}

console.log(`\n${steps.join('\n')}`);
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

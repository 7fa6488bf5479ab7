// `npm test`: build, typecheck, size budgets (size-limit, .size-limit.mjs), import layers (dependency-cruiser,
// .dependency-cruiser.cjs), state written from one file (scripts/state-owners.mjs), Node tests (vitest: unit,
// collector, integration, workerd), then the browser tests (Playwright: a Chromium and a Firefox project). Prints
// one closing line: "tests: N passed, N failed, N skipped" (vitest's skipped and todo, Playwright's skipped and
// fixme). With CI set, a stray `.only` fails the run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findChromium } from './chromium.mjs';
import { findFirefox } from './firefox.mjs';

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

/** The failed tests' names, printed again under the closing lines (a CI log's tail is often all one sees). */
const failures = [];
/** An error's first line, without colour codes, cut to 300 characters ('' when there is none). */
function firstLine(message) {
  if (!message) return '';
  const line = message.replace(/\u001b\[[0-9;]*m/g, '').split('\n').find((l) => l.trim() !== '') ?? '';
  return ` — ${line.trim().slice(0, 300)}`;
}
/** A vitest JSON report's failed tests, as "file › test". */
function vitestFailures(report, label) {
  for (const file of report.testResults ?? []) {
    for (const t of file.assertionResults ?? []) {
      if (t.status === 'failed') failures.push(`${label}: ${path.relative(root, file.name)} › ${t.fullName ?? t.title}${firstLine(t.failureMessages?.[0])}`);
    }
  }
}
let passed = 0;
let failed = 0;
let skipped = 0;
const steps = [];

function step(label, ok) {
  steps.push(`${ok ? 'ok  ' : 'FAIL'} ${label}`);
  if (!ok) failed++;
}

step('build', run('build', process.execPath, ['scripts/build.mjs']));
step('typecheck', run('typecheck', bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']));
step('typecheck (worker)', run('typecheck worker', bin('tsc'), ['--noEmit', '-p', 'tsconfig.worker.json']));
step('typecheck (service worker)', run('typecheck (service worker)', bin('tsc'), ['--noEmit', '-p', 'tsconfig.sw.json']));
step('typecheck (worker test fixtures)', run('typecheck (worker test fixtures)', bin('tsc'), ['--noEmit', '-p', 'test/worker/tsconfig.json']));
step('size budgets (size-limit)', run('size budgets', bin('size-limit'), []));
step('import layers, no cycles (dependency-cruiser)', run('import layers', bin('depcruise'), ['src', '--output-type', 'err-long']));
step('one owner per state (scripts/state-owners.mjs)', run('state owners', process.execPath, ['scripts/state-owners.mjs']));
step('package (npm pack, attw, publint, knip)', run('package', process.execPath, ['scripts/check-package.mjs']));

const vitestJson = path.join(out, 'vitest.json');
const vitestOk = run('node tests (vitest)', bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestJson}`]);
if (existsSync(vitestJson)) {
  const r = JSON.parse(readFileSync(vitestJson, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  vitestFailures(r, 'vitest');
  const vSkipped = r.numPendingTests + r.numTodoTests;
  skipped += vSkipped;
  steps.push(`${vitestOk ? 'ok  ' : 'FAIL'} vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${vSkipped} skipped`);
  if (!vitestOk && r.numFailedTests === 0) failed++;
} else step('vitest (no report)', false);

let chromium;
try {
  chromium = await findChromium();
} catch (e) {
  console.error(`\n${e.message}`);
  step('chromium', false);
}
let firefox;
try {
  firefox = findFirefox();
} catch (e) {
  console.error(`\n${e.message}`);
  step('firefox', false);
}

/** Per project: tests passed (flaky counts as passed, and is shown), failed, skipped (fixme included). */
function countByProject(report) {
  const by = {};
  const walk = (suite, titles = []) => {
    for (const spec of suite.specs ?? []) {
      for (const t of spec.tests) {
        const c = (by[t.projectName] ??= { passed: 0, failed: 0, skipped: 0, flaky: 0 });
        if (t.status === 'expected') c.passed++;
        else if (t.status === 'flaky') (c.passed++, c.flaky++);
        else if (t.status === 'skipped') c.skipped++;
        else {
          c.failed++;
          failures.push(`${t.projectName}: ${[...titles, spec.title].join(' › ')}${firstLine(t.results?.at(-1)?.error?.message)}`);
        }
      }
    }
    for (const child of suite.suites ?? []) walk(child, [...titles, child.title]);
  };
  for (const suite of report.suites ?? []) walk(suite, [suite.title]);
  return by;
}

const projects = [chromium && 'chromium', firefox && 'firefox'].filter(Boolean);
if (projects.length > 0) {
  const pwJson = path.join(out, 'playwright.json');
  const pwOk = run('browser tests (playwright)', bin('playwright'), ['test', ...projects.map((p) => `--project=${p}`), '--reporter=list,json'], {
    ...(chromium && { CHROMIUM_PATH: chromium }),
    ...(firefox && { FIREFOX_PATH: firefox }),
    PLAYWRIGHT_JSON_OUTPUT_NAME: pwJson,
  });
  if (existsSync(pwJson)) {
    const by = countByProject(JSON.parse(readFileSync(pwJson, 'utf8')));
    let bad = 0;
    for (const name of projects) {
      const c = by[name] ?? { passed: 0, failed: 0, skipped: 0, flaky: 0 };
      passed += c.passed;
      failed += c.failed;
      skipped += c.skipped;
      bad += c.failed;
      const flaky = c.flaky ? ` (${c.flaky} flaky)` : '';
      steps.push(`${c.failed === 0 ? 'ok  ' : 'FAIL'} playwright ${name}: ${c.passed} passed${flaky}, ${c.failed} failed, ${c.skipped} skipped`);
    }
    if (!pwOk && bad === 0) step('playwright (exit status)', false);
  } else step('playwright (no report)', false);
}

// WebKit: WebKitGTK over WebDriver under Xvfb (test/webkit, its own vitest config; it starts and ends its processes).
if (!existsSync(process.env.WEBKIT_DRIVER_PATH ?? '/usr/bin/WebKitWebDriver') || !existsSync('/usr/bin/Xvfb')) {
  console.error('\nWebKit: WebKitWebDriver or Xvfb not found (apt-get install --no-install-recommends webkit2gtk-driver xvfb xauth, as .ci/run does)');
  step('webkit', false);
} else {
  const wkJson = path.join(out, 'webkit.json');
  const wkOk = run('webkit tests (vitest, WebKitWebDriver)', bin('vitest'), ['run', '-c', 'vitest.webkit.config.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${wkJson}`]);
  if (existsSync(wkJson)) {
    const r = JSON.parse(readFileSync(wkJson, 'utf8'));
    vitestFailures(r, 'webkit');
    const wSkipped = r.numPendingTests + r.numTodoTests;
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    skipped += wSkipped;
    steps.push(`${wkOk ? 'ok  ' : 'FAIL'} webkit: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${wSkipped} skipped`);
    if (!wkOk && r.numFailedTests === 0) failed++;
  } else step('webkit (no report)', false);
}

console.log(`\n${steps.join('\n')}`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
for (const f of failures) console.log(`failed: ${f}`);
process.exit(failed === 0 ? 0 : 1);

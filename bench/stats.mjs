// Summaries of repeated measurements: the median, and the machine's noise as min–max.

/**
 * @param {number[]} values one number per run
 * @returns {{ median: number, min: number, max: number, runs: number }}
 */
export function summarize(values) {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { median, min: v[0], max: v[v.length - 1], runs: v.length };
}

/** "median (min–max)" with `digits` decimals. */
export function fmt(s, digits = 2) {
  if (!s) return 'n/a';
  const f = (x) => Number(x).toFixed(digits);
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

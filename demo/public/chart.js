// The live chart: queue depth and records (observations + scores) stored over time, drawn with uPlot (made for streaming data).
import uPlot from '/vendor/uplot/uPlot.esm.js';

/** Seconds of history kept on the chart. */
export const CHART_WINDOW_S = 120;

/**
 * Creates a chart in `container` and returns `push(sample)`, which appends one point and redraws.
 * @param {HTMLElement} container
 * @returns {{ push(sample: { queued: number, inflight: number, stored: number }): void }}
 */
export function createChart(container) {
  /** @type {number[][]} x in seconds (uPlot's time unit), then one array per series */
  const data = [[], [], [], []];
  const width = () => Math.max(320, container.clientWidth);
  const plot = new uPlot(
    {
      width: width(),
      height: 260,
      cursor: { show: true },
      legend: { live: false },
      scales: { x: { time: true }, queue: { auto: true, range: (_u, _min, max) => [0, Math.max(10, max)] }, stored: { range: (_u, _min, max) => [0, Math.max(10, max)] } },
      series: [
        {},
        { label: 'queued', scale: 'queue', stroke: '#d9822b', width: 2, fill: 'rgba(217,130,43,0.12)', points: { show: false } },
        { label: 'in flight', scale: 'queue', stroke: '#8e44ad', width: 1.5, points: { show: false } },
        { label: 'observations + scores stored', scale: 'stored', stroke: '#2e7d32', width: 2, points: { show: false } },
      ],
      axes: [
        {},
        { scale: 'queue', label: 'client queue (events)' },
        { scale: 'stored', side: 1, label: 'stored at the collector', grid: { show: false } },
      ],
    },
    /** @type {any} */ (data),
    container,
  );
  new ResizeObserver(() => plot.setSize({ width: width(), height: 260 })).observe(container);

  return {
    push({ queued, inflight, stored }) {
      const now = Date.now() / 1000;
      data[0].push(now);
      data[1].push(queued);
      data[2].push(inflight);
      data[3].push(stored);
      while (data[0].length > 0 && data[0][0] < now - CHART_WINDOW_S) for (const s of data) s.shift();
      plot.setData(/** @type {any} */ (data));
    },
  };
}

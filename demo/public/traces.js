// The traces panel: the newest traces as trees of observations, with their scores, fetched from the collector
// (/control/traces?observations=1) whenever its stats say observations or scores changed. Every value is
// written with textContent: span names, models and score names are data, never markup.

/** Traces shown at most. */
export const TRACES_SHOWN = 20;

/**
 * Creates an element with optional class and text.
 * @param {string} tag
 * @param {string} [className]
 * @param {unknown} [text]
 */
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** Formats a duration in ms, e.g. 1234 → '1.23 s'. @param {number} ms */
export function formatDuration(ms) {
  if (!Number.isFinite(ms)) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** 'gpt-4o · 12 in / 30 out / 42 total' for a generation. @param {Record<string, any>} o */
function modelLine(o) {
  const usage = o.usageDetails && typeof o.usageDetails === 'object'
    ? Object.entries(o.usageDetails).map(([k, v]) => `${v} ${k}`).join(' / ')
    : '';
  const ttft = typeof o.completionStartTime === 'number' ? `TTFT ${Math.round(o.completionStartTime - o.startTime)} ms` : '';
  return [o.model, usage && `${usage} tokens`, ttft].filter(Boolean).join(' · ');
}

/**
 * One observation as a list item, its children nested below it. `seen` guards against parent cycles.
 * @param {Record<string, any>} o
 * @param {Map<string, Record<string, any>[]>} children
 * @param {Set<string>} seen
 */
function observationItem(o, children, seen) {
  seen.add(String(o.id));
  const li = el('li', 'observation');
  li.dataset.level = String(o.level ?? 'DEFAULT');
  const line = el('div', 'obs-line');
  const badge = el('span', 'badge', o.type);
  badge.dataset.type = String(o.type);
  line.append(badge, ' ', el('span', 'obs-name', o.name), ' ', el('span', 'obs-duration', formatDuration(o.endTime - o.startTime)));
  if (o.type === 'generation' || o.model) line.append(' ', el('span', 'obs-model', modelLine(o)));
  if (o.level && o.level !== 'DEFAULT') line.append(' ', el('span', 'obs-level', o.level));
  if (o.statusMessage) line.append(' ', el('span', 'obs-status', o.statusMessage));
  if (o.arrivals > 1) line.append(' ', el('span', 'obs-dup', `×${o.arrivals} arrivals`));
  li.append(line);
  const kids = (children.get(String(o.id)) ?? []).filter((k) => !seen.has(String(k.id)));
  if (kids.length > 0) {
    const ul = el('ul');
    for (const kid of kids) ul.append(observationItem(kid, children, seen));
    li.append(ul);
  }
  return li;
}

/**
 * One trace: a header (name, user, session, environment, duration, scores), then its observation tree. Roots are
 * observations without a parent in this trace; any left over (a parent cycle) are listed at the end.
 * @param {Record<string, any>} t a trace from /control/traces?observations=1
 */
export function traceElement(t) {
  const box = el('article', 'trace');
  box.dataset.traceId = String(t.id);
  const head = el('header', 'trace-head');
  head.append(el('strong', 'trace-name', t.name ?? '(unnamed trace)'));
  const facts = [
    t.userId && `user ${t.userId}`,
    t.sessionId && `session ${t.sessionId}`,
    `env ${t.environment}`,
    formatDuration(t.endTime - t.startTime),
    ...(Array.isArray(t.tags) && t.tags.length ? [`tags ${t.tags.join(', ')}`] : []),
  ].filter(Boolean);
  head.append(' ', el('span', 'trace-facts', facts.join(' · ')));
  const scores = Array.isArray(t.scores) ? t.scores : [];
  if (scores.length > 0) {
    const list = el('span', 'trace-scores');
    for (const s of scores) list.append(el('span', 'score', `${s.name} = ${s.value}${s.observationId ? ` (on ${s.observationId})` : ''}`));
    head.append(' ', list);
  }
  box.append(head);

  const observations = Array.isArray(t.observations) ? t.observations : [];
  const ids = new Set(observations.map((o) => String(o.id)));
  /** @type {Map<string, Record<string, any>[]>} */
  const children = new Map();
  for (const o of observations) {
    const parent = o.parentObservationId == null ? null : String(o.parentObservationId);
    if (parent !== null && ids.has(parent) && parent !== String(o.id)) {
      children.set(parent, [...(children.get(parent) ?? []), o]);
    }
  }
  const isRoot = (/** @type {Record<string, any>} */ o) => {
    const parent = o.parentObservationId == null ? null : String(o.parentObservationId);
    return parent === null || !ids.has(parent) || parent === String(o.id);
  };
  const seen = new Set();
  const tree = el('ul', 'tree');
  for (const o of [...observations.filter(isRoot), ...observations]) {
    if (!seen.has(String(o.id))) tree.append(observationItem(o, children, seen));
  }
  box.append(tree);
  return box;
}

/**
 * Keeps `container` showing the newest traces. `update(stats)` refetches when the counts of observations,
 * span arrivals or scores changed; one fetch at a time, and a change seen meanwhile triggers one more.
 * @param {HTMLElement} container
 */
export function createTracesPanel(container) {
  let lastKey = '';
  let running = false;
  let again = false;

  async function refresh() {
    const res = await fetch(`/control/traces?limit=${TRACES_SHOWN}&observations=1`, { cache: 'no-store' });
    if (!res.ok) return;
    const { traces } = await res.json();
    if (!Array.isArray(traces) || traces.length === 0) {
      container.replaceChildren(el('p', 'empty', 'No traces yet: spans sent to /api/public/otel/v1/traces appear here.'));
      return;
    }
    container.replaceChildren(...traces.map(traceElement));
  }

  return {
    /** @param {Record<string, any>} stats the collector's stats */
    async update(stats) {
      const key = `${stats.observationsStored}/${stats.spanDuplicates}/${stats.scoresStored}/${stats.tracesStored}`;
      if (key === lastKey) return;
      lastKey = key;
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          await refresh().catch(() => undefined);
        } while (again);
      } finally {
        running = false;
      }
    },
  };
}

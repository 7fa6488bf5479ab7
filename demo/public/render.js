// Writing values into the dashboard. Every value goes through textContent, never innerHTML: event bodies and
// server messages are data, and data must not become markup.

/**
 * Sets the text of the element with this id (if it exists); objects are shown as JSON.
 * @param {string} id
 * @param {unknown} value
 */
export function setText(id, value) {
  const el = document.getElementById(id);
  if (!el) return;
  const text = value === undefined || value === null || value === '' ? '—' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (el.textContent !== text) el.textContent = text;
}

/**
 * Replaces a table body with one row per [label, value] pair; cells get ids `${idPrefix}${key}` so tests and
 * readers can find a value by name.
 * @param {HTMLTableSectionElement} tbody
 * @param {[key: string, label: string, value: unknown][]} rows
 * @param {string} idPrefix
 */
export function fillRows(tbody, rows, idPrefix) {
  tbody.replaceChildren(
    ...rows.map(([key, label, value]) => {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.textContent = label;
      const td = document.createElement('td');
      td.id = `${idPrefix}${key}`;
      td.textContent = String(value);
      tr.append(th, td);
      return tr;
    }),
  );
}

/**
 * Replaces a table body with rows of plain cells.
 * @param {HTMLTableSectionElement} tbody
 * @param {unknown[][]} rows
 */
export function fillCells(tbody, rows) {
  tbody.replaceChildren(
    ...rows.map((cells) => {
      const tr = document.createElement('tr');
      for (const cell of cells) {
        const td = document.createElement('td');
        td.textContent = typeof cell === 'string' ? cell : JSON.stringify(cell) ?? String(cell);
        tr.append(td);
      }
      return tr;
    }),
  );
}

/**
 * Prepends a timestamped line to an ordered list, keeping at most `max` lines.
 * @param {HTMLOListElement} list
 * @param {string} message
 * @param {number} [max] default 30
 */
export function logLine(list, message, max = 30) {
  const li = document.createElement('li');
  const time = document.createElement('time');
  time.textContent = new Date().toLocaleTimeString();
  li.append(time, ' ', message);
  list.prepend(li);
  while (list.children.length > max) list.lastElementChild?.remove();
}

/** Formats a byte count, e.g. 1536 → '1.5 KiB'. @param {number} n bytes */
export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

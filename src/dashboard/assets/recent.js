// The recent-requests table: newest first, at most LIMIT rows.
import { ms, time } from './format.js';

const LIMIT = 50;

/** Prepends `records` (oldest first, as the server sends them) to the table body. */
export function addRecent(tbody, records) {
  for (const r of records) {
    const tr = document.createElement('tr');
    const cells = [
      time(r.at),
      `${r.path}${r.stream ? ' (stream)' : ''}`,
      r.model ?? '-',
      r.worker ?? '-',
      ms(r.latencyMs),
      ms(r.ttftMs ?? NaN),
      r.outputTokens === undefined ? '-' : String(r.outputTokens),
      r.error ? `${r.status} ${r.error}` : String(r.status),
    ];
    for (const text of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    if (r.status >= 400) tr.lastChild.className = 'err';
    tbody.prepend(tr);
  }
  while (tbody.rows.length > LIMIT) tbody.lastChild.remove();
}

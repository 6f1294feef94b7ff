// Number formatting shared by the dashboard's views.

/** 1234.5 -> "1.23 s", 12.3 -> "12 ms", NaN/0 with no data -> "-". */
export function ms(v) {
  if (!Number.isFinite(v) || v <= 0) return '-';
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`;
}

/** A rate or count with one decimal below 100. */
export function num(v) {
  if (!Number.isFinite(v)) return '-';
  return v >= 100 ? String(Math.round(v)) : v.toFixed(1).replace(/\.0$/, '');
}

export function time(wallMs) {
  return new Date(wallMs).toLocaleTimeString();
}

// A tiny line chart on a canvas: a few series over the same time axis, auto-scaled to the maximum.

const COLORS = ['#58a6ff', '#3fb950', '#d29922', '#f85149'];

/**
 * Draws `series` (arrays of numbers, same length, oldest first) into `canvas`.
 * @param {HTMLCanvasElement} canvas
 * @param {{ label: string, values: number[] }[]} series
 */
export function drawLines(canvas, series) {
  const ctx = canvas.getContext('2d');
  const w = canvas.width;
  const h = canvas.height;
  const pad = 24;
  ctx.clearRect(0, 0, w, h);
  let max = 1;
  for (const s of series) for (const v of s.values) if (v > max) max = v;
  ctx.strokeStyle = '#2d333b';
  ctx.fillStyle = '#8a96a3';
  ctx.font = '11px system-ui';
  for (let i = 0; i <= 2; i++) {
    const y = pad / 2 + ((h - pad) * i) / 2;
    ctx.beginPath();
    ctx.moveTo(pad, y);
    ctx.lineTo(w, y);
    ctx.stroke();
    const v = (max * (2 - i)) / 2;
    ctx.fillText(max < 10 ? v.toFixed(1) : String(Math.round(v)), 2, y + 4);
  }
  series.forEach((s, k) => {
    const n = s.values.length;
    if (n < 2) return;
    ctx.strokeStyle = COLORS[k % COLORS.length];
    ctx.lineWidth = 2;
    ctx.beginPath();
    s.values.forEach((v, i) => {
      const x = pad + ((w - pad) * i) / (n - 1);
      const y = pad / 2 + (h - pad) * (1 - v / max);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.stroke();
    ctx.fillStyle = ctx.strokeStyle;
    ctx.fillText(s.label, w - 90, 12 + 12 * k);
  });
}

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { BenchmarkResults, LevelResult } from './types.ts';

/**
 * chart.js's UMD bundle, read by file path: the package's exports do not include it, and the
 * report must inline it so the page works offline.
 */
export async function loadChartJs(): Promise<string> {
  const main = createRequire(import.meta.url).resolve('chart.js');
  return readFile(join(dirname(main), 'chart.umd.min.js'), 'utf8');
}

const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** JSON safe inside a <script> element. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

function levelRows(ls: readonly LevelResult[], key: (l: LevelResult) => string): string {
  return ls
    .map(
      (l) =>
        `<tr><td>${esc(key(l))}</td><td>${l.requests_per_second.toFixed(2)}</td><td>${l.success_rate.toFixed(1)}%</td>` +
        `<td>${l.avg_response_time.toFixed(3)}</td><td>${l.p50_response_time.toFixed(3)}</td><td>${l.p95_response_time.toFixed(3)}</td>` +
        `<td>${l.p99_response_time.toFixed(3)}</td><td>${l.ttft ? l.ttft.p50.toFixed(3) : '-'}</td><td>${(l.output_tokens_per_second ?? 0).toFixed(1)}</td>` +
        `<td>${l.self_check?.valid === false ? 'INVALID' : 'ok'}</td><td>${esc((l.notes ?? []).join('; '))}</td></tr>`,
    )
    .join('\n');
}

const CLIENT = String.raw`
const R = JSON.parse(document.getElementById('results').textContent);
const charts = [];
window.__charts = charts;
Chart.defaults.animation = false;
const palette = ['#2563eb','#dc2626','#16a34a','#d97706','#7c3aed','#0891b2','#db2777','#65a30d','#475569','#ea580c'];
function chart(id, cfg) {
  const el = document.getElementById(id);
  if (!el) return;
  cfg.options = Object.assign({ responsive: true, maintainAspectRatio: false }, cfg.options || {});
  charts.push(new Chart(el, cfg));
}
const closed = R.concurrency_benchmark || [];
const open = R.rate_benchmark || [];
const levels = closed.length ? closed : open;
const xs = levels.map(l => closed.length ? String(l.concurrency) : String(l.rate));
const xTitle = closed.length ? 'concurrency' : 'offered rate (req/s)';
if (levels.length) {
  chart('throughput', { type: 'line', data: { labels: xs, datasets: [
    { label: 'requests/s', data: levels.map(l => l.requests_per_second), borderColor: palette[0], yAxisID: 'y' },
    { label: 'output tokens/s', data: levels.map(l => l.output_tokens_per_second || 0), borderColor: palette[2], yAxisID: 'y1' } ] },
    options: { scales: { x: { title: { display: true, text: xTitle } }, y: { title: { display: true, text: 'req/s' }, beginAtZero: true },
      y1: { position: 'right', title: { display: true, text: 'tokens/s' }, beginAtZero: true, grid: { drawOnChartArea: false } } } } });
  const lat = [['p50','p50_response_time'],['p90','p90_response_time'],['p95','p95_response_time'],['p99','p99_response_time']];
  const ds = lat.map(([n,k],i) => ({ label: 'E2E ' + n, data: levels.map(l => l[k] ?? null), borderColor: palette[i] }));
  if (levels.some(l => l.ttft)) ds.push({ label: 'TTFT p50', data: levels.map(l => l.ttft ? l.ttft.p50 : null), borderColor: palette[4], borderDash: [4,4] });
  chart('latency', { type: 'line', data: { labels: xs, datasets: ds },
    options: { scales: { x: { title: { display: true, text: xTitle } }, y: { title: { display: true, text: 'seconds' }, beginAtZero: true } } } });
  const ids = [...new Set(levels.flatMap(l => (l.workers || []).map(w => w.worker)))];
  chart('share', { type: 'bar', data: { labels: xs, datasets: ids.map((id,i) => ({ label: id, backgroundColor: palette[i % palette.length],
      data: levels.map(l => { const w = (l.workers || []).find(w => w.worker === id); return w ? w.load_percentage : 0; }) })) },
    options: { scales: { x: { stacked: true, title: { display: true, text: xTitle } }, y: { stacked: true, max: 100, title: { display: true, text: '% of requests' } } } } });
}
const sc = R.scaling_benchmark || [];
if (sc.length) {
  const one = sc.find(s => s.workers === 1);
  const base = one ? one.requests_per_second : (sc[0].requests_per_second / sc[0].workers);
  const ds = [
    { label: 'measured req/s', data: sc.map(s => s.requests_per_second), borderColor: palette[0] },
    { label: 'ideal (N x 1 worker)', data: sc.map(s => base * s.workers), borderColor: palette[8], borderDash: [6,4] } ];
  if (sc.some(s => s.solo_sum_rps)) ds.push({ label: 'sum of solo throughputs', data: sc.map(s => s.solo_sum_rps ?? null), borderColor: palette[2], borderDash: [2,3] });
  chart('scaling', { type: 'line', data: { labels: sc.map(s => String(s.workers)), datasets: ds },
    options: { scales: { x: { title: { display: true, text: 'workers' } }, y: { title: { display: true, text: 'req/s' }, beginAtZero: true } } } });
}
`;

/**
 * One self-contained page (chart.js inlined, no network): throughput, latency percentiles and
 * worker shares per level, and worker scaling against the ideal line.
 */
export function renderHtmlReport(
  r: BenchmarkResults,
  chartJs: string,
  title = 'llm-fleet benchmark',
): string {
  const closed = r.concurrency_benchmark ?? [];
  const open = r.rate_benchmark ?? [];
  const levels = closed.length > 0 ? closed : open;
  const sc = r.scaling_benchmark ?? [];
  const head =
    '<tr><th>level</th><th>req/s</th><th>success</th><th>avg s</th><th>p50 s</th><th>p95 s</th><th>p99 s</th><th>TTFT p50 s</th><th>tok/s</th><th>client</th><th>notes</th></tr>';
  const panel = (id: string, name: string, has: boolean) =>
    `<section><h2>${name}</h2>${has ? `<div class="chart"><canvas id="${id}"></canvas></div>` : '<p class="none">Not measured in this run.</p>'}</section>`;
  const cfg = r.configuration;
  const workers =
    cfg?.worker_list
      ?.map((w) => `${w.id} (${w.type}, ${w.model}, cap ${w.max_concurrent_requests})`)
      .join(', ') ?? '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#111;max-width:1200px}
h1{font-size:22px}h2{font-size:16px;margin-top:28px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px}
.chart{position:relative;height:300px}
table{border-collapse:collapse;margin-top:8px;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:last-child{text-align:left}.none{color:#666}.meta{color:#444}.partial{color:#a40}
</style></head><body>
<h1>${esc(title)}</h1>
${r.partial ? `<p class="partial"><strong>Interrupted: partial results.</strong> ${esc(r.notes?.at(-1) ?? '')}</p>` : ''}
<p class="meta">${esc(r.timestamp ?? '')} &middot; ${esc(workers)}${cfg ? ` &middot; ${cfg.requests} requests per level, max_tokens ${cfg.max_tokens}, ${cfg.stream ? 'streaming' : 'not streaming'}` : ''}</p>
<div class="grid">
${panel('throughput', closed.length > 0 || open.length === 0 ? 'Throughput vs concurrency' : 'Throughput vs offered rate', levels.length > 0)}
${panel('latency', 'Latency percentiles (E2E, TTFT)', levels.length > 0)}
${panel('share', "Each worker's share of requests", levels.length > 0)}
${panel('scaling', 'Worker scaling vs the ideal line', sc.length > 0)}
</div>
${levels.length > 0 ? `<h2>Levels</h2><table>${head}\n${levelRows(levels, (l) => (closed.length > 0 ? `c=${l.concurrency}` : `${l.rate ?? 0}/s`))}</table>` : ''}
${sc.length > 0 ? `<h2>Worker scaling</h2><table><tr><th>workers</th><th>healthy</th><th>req/s</th><th>per worker</th><th>speedup</th><th>efficiency</th><th>vs solo sum</th><th>notes</th></tr>\n${sc.map((s) => `<tr><td>${s.workers}</td><td>${s.healthy_workers}</td><td>${s.requests_per_second.toFixed(2)}</td><td>${s.throughput_per_worker.toFixed(2)}</td><td>${(s.speedup ?? 0).toFixed(2)}x</td><td>${(s.scaling_efficiency ?? 0).toFixed(1)}%</td><td>${(s.efficiency_vs_solo ?? 0).toFixed(1)}%</td><td>${esc((s.notes ?? []).join('; '))}</td></tr>`).join('\n')}</table>` : ''}
<script>${chartJs.replace(/<\/script/gi, '<\\/script')}</script>
<script type="application/json" id="results">${scriptJson(r)}</script>
<script>${CLIENT}</script>
</body></html>
`;
}

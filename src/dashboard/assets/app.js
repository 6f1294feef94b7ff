// Entry point: subscribes to /fleet/events and hands each snapshot to the views.
import { renderCards } from './cards.js';
import { drawLines } from './chart.js';
import { addRecent } from './recent.js';
import { num } from './format.js';

const HISTORY = 120; // points kept for the charts (2 minutes at one snapshot a second)
const history = { queue: [], rps: [], tps: [] };

const $ = (id) => document.getElementById(id);

function push(arr, v) {
  arr.push(v);
  if (arr.length > HISTORY) arr.shift();
}

function onStats(s) {
  const up = s.workers.filter((w) => w.state === 'healthy' || w.state === 'degraded').length;
  $('t-workers').textContent = `${up}/${s.workers.length}`;
  $('t-inflight').textContent = `${s.totals.inFlight}/${s.totals.cap}`;
  $('t-queue').textContent = String(s.queue.depth);
  $('t-rps').textContent = num(s.totals.reqPerSec);
  $('t-tps').textContent = num(s.totals.tokensPerSec);
  $('t-done').textContent = String(s.totals.completed);
  $('t-failed').textContent = String(s.totals.failed);
  renderCards($('workers'), s.workers);
  push(history.queue, s.queue.depth);
  push(history.rps, s.totals.reqPerSec);
  push(history.tps, s.totals.tokensPerSec / 10);
  drawLines($('chart-queue'), [{ label: 'queued', values: history.queue }]);
  drawLines($('chart-throughput'), [
    { label: 'req/s', values: history.rps },
    { label: 'tok/s ÷ 10', values: history.tps },
  ]);
  addRecent(document.querySelector('#recent tbody'), s.recent);
}

function connect() {
  // EventSource cannot send headers: the API key (when the gateway needs one) rides in the query.
  const key = new URLSearchParams(location.search).get('key');
  const es = new EventSource(`/fleet/events${key ? `?key=${encodeURIComponent(key)}` : ''}`);
  const conn = $('conn');
  es.onopen = () => {
    conn.textContent = 'live';
    conn.className = 'conn on';
  };
  es.onerror = () => {
    conn.textContent = 'reconnecting';
    conn.className = 'conn off';
  };
  es.addEventListener('stats', (e) => onStats(JSON.parse(e.data)));
}

connect();

// One card per worker: state, in flight / cap as a bar, req/s, p95 latency, TTFT, tokens/s, errors, model.
import { ms, num } from './format.js';

const FIELDS = [
  ['reqPerSec', 'req/s', (w) => num(w.reqPerSec)],
  ['p95', 'p95 latency', (w) => ms(w.p95Ms)],
  ['ttft', 'TTFT p50', (w) => ms(w.ttftP50Ms)],
  ['tokensPerSec', 'tokens/s', (w) => num(w.tokensPerSec)],
  ['completed', 'done', (w) => String(w.completed)],
  ['errors', 'errors', (w) => String(w.failed)],
];

function createCard(w) {
  const card = document.createElement('article');
  card.className = 'card';
  card.dataset.worker = w.id;
  const rows = FIELDS.map(([key, label]) => `<dt>${label}</dt><dd data-field="${key}">-</dd>`).join('');
  card.innerHTML = `
    <h3></h3>
    <div class="model"></div>
    <div class="state" data-field="state"></div>
    <div class="bar" title="in flight / cap"><div></div></div>
    <div class="state"><span data-field="inFlight">0</span> / <span data-field="cap">0</span> in flight</div>
    <dl>${rows}</dl>`;
  card.querySelector('h3').textContent = w.id;
  card.querySelector('.model').textContent = `${w.model} · ${w.type}`;
  return card;
}

/** Updates (creating or removing) the cards in `container` to match `workers`. */
export function renderCards(container, workers) {
  const seen = new Set();
  for (const w of workers) {
    seen.add(w.id);
    let card = container.querySelector(`[data-worker="${CSS.escape(w.id)}"]`);
    if (!card) {
      card = createCard(w);
      container.append(card);
    }
    card.className = `card ${w.state}`;
    const set = (key, text) => (card.querySelector(`[data-field="${key}"]`).textContent = text);
    set('state', w.reason ? `${w.state}: ${w.reason}` : w.state);
    set('inFlight', String(w.inFlight));
    set('cap', String(w.cap));
    for (const [key, , fmt] of FIELDS) set(key, fmt(w));
    card.querySelector('.bar > div').style.width =
      `${w.cap > 0 ? Math.min(100, (100 * w.inFlight) / w.cap) : 0}%`;
  }
  for (const card of container.querySelectorAll('[data-worker]'))
    if (!seen.has(card.dataset.worker)) card.remove();
}

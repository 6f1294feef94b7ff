/**
 * Just enough of the Prometheus text format to read a server's gauges (vLLM
 * `vllm:num_requests_running{model_name="x",engine="0"} 3`, llama.cpp `llamacpp:requests_deferred 0`).
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m?.[1] || m[3] === undefined) continue;
    const value = Number(m[3]);
    if (Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) {
      if (l[1] !== undefined && l[2] !== undefined) labels[l[1]] = l[2].replace(/\\(.)/g, '$1');
    }
    out.push({ name: m[1], labels, value });
  }
  return out;
}

/** The sum of a metric over all its label sets (e.g. every vLLM engine), or undefined when absent. */
export function metricSum(samples: readonly Sample[], name: string): number | undefined {
  let sum: number | undefined;
  for (const s of samples) if (s.name === name) sum = (sum ?? 0) + s.value;
  return sum;
}

/** One sample line of Prometheus's text exposition: `name{label="value",…} value`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL_PAIR = /([A-Za-z_]\w*)="((?:[^"\\]|\\.)*)"/g;

function sampleValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/**
 * The samples of a node's /metrics (comments and blank lines skipped, label values unescaped), for the bench's
 * reads of a few histograms by label. Hand-written: the npm parser (parse-prometheus-text-format 1.1.1) dropped
 * a histogram's labels, sums and counts from prom-client's output when tried (2026-12-07), and prom-client
 * only writes the format.
 */
export function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = SAMPLE_LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, name, value] of (m[2] ?? '').matchAll(LABEL_PAIR)) {
      labels[name!] = value!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: m[1]!, labels, value: sampleValue(m[3]!) });
  }
  return samples;
}

export interface HistogramSnapshot {
  sum: number;
  count: number;
}

export async function readHistogram(nodeUrl: string, name: string): Promise<HistogramSnapshot> {
  const res = await fetch(`${nodeUrl}/metrics`);
  if (!res.ok) throw new Error(`GET /metrics: ${res.status}`);
  const samples = parseSamples(await res.text());
  // Every label set summed (a node's histogram may be split by label).
  const total = (name: string) => samples.reduce((sum, s) => (s.name === name && Number.isFinite(s.value) ? sum + s.value : sum), 0);
  return { sum: total(`${name}_sum`), count: total(`${name}_count`) };
}

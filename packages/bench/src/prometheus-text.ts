/**
 * Sum of every sample named `name` (all label sets) in Prometheus text exposition. Enough to read a
 * histogram's `_sum` and `_count` from a node's /metrics without a client library.
 */
function sampleSum(text: string, name: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    // `name{labels} value` or `name value`; not `name_bucket…` when asking for `name`.
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) total += value;
  }
  return total;
}

export interface HistogramSnapshot {
  sum: number;
  count: number;
}

export async function readHistogram(nodeUrl: string, name: string): Promise<HistogramSnapshot> {
  const res = await fetch(`${nodeUrl}/metrics`);
  if (!res.ok) throw new Error(`GET /metrics: ${res.status}`);
  const text = await res.text();
  return { sum: sampleSum(text, `${name}_sum`), count: sampleSum(text, `${name}_count`) };
}

import { parseSamples } from '../src/prometheus-text';

// A node's /metrics as prom-client writes it: HELP and TYPE comments, `le` first among a bucket's labels, label
// values escaped, `+Inf` buckets.
const text = [
  '# HELP chat_send_stage_seconds Time of one message:send in each stage.',
  '# TYPE chat_send_stage_seconds histogram',
  'chat_send_stage_seconds_bucket{le="0.05",stage="commit",node="node-1"} 3',
  'chat_send_stage_seconds_bucket{le="+Inf",stage="commit",node="node-1"} 5',
  'chat_send_stage_seconds_sum{stage="commit",node="node-1"} 0.42',
  'chat_send_stage_seconds_count{stage="commit",node="node-1"} 5',
  '',
  '# TYPE chat_errors_total counter',
  'chat_errors_total{code="say \\"hi\\"",where="a\\\\b\\nc"} 2',
  'process_start_time_seconds 1765000000',
].join('\n');

describe('parseSamples', () => {
  it('reads every sample with its labels and value, and skips comments and blank lines', () => {
    expect(parseSamples(text)).toEqual([
      { name: 'chat_send_stage_seconds_bucket', labels: { le: '0.05', stage: 'commit', node: 'node-1' }, value: 3 },
      { name: 'chat_send_stage_seconds_bucket', labels: { le: '+Inf', stage: 'commit', node: 'node-1' }, value: 5 },
      { name: 'chat_send_stage_seconds_sum', labels: { stage: 'commit', node: 'node-1' }, value: 0.42 },
      { name: 'chat_send_stage_seconds_count', labels: { stage: 'commit', node: 'node-1' }, value: 5 },
      { name: 'chat_errors_total', labels: { code: 'say "hi"', where: 'a\\b\nc' }, value: 2 },
      { name: 'process_start_time_seconds', labels: {}, value: 1765000000 },
    ]);
  });

  it('reads +Inf and -Inf sample values as infinities', () => {
    expect(parseSamples('g{a="1"} +Inf\ng{a="2"} -Inf').map((s) => s.value)).toEqual([Infinity, -Infinity]);
  });
});

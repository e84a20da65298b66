import { sendTotals } from '../src/load/send-budget';

// The latency budget's tail row reads the nodes' histogram buckets: the sends within 50 and 100 ms of each
// stage, summed over the nodes, so the share over each bound is 1 - within / count.

const node = (name: string, commit: { within50: number; within100: number; count: number }, ack: { within50: number; within100: number; count: number }) =>
  [
    `chat_send_stage_seconds_bucket{le="0.025",stage="commit",node="${name}"} 1`,
    `chat_send_stage_seconds_bucket{le="0.05",stage="commit",node="${name}"} ${commit.within50}`,
    `chat_send_stage_seconds_bucket{le="0.1",stage="commit",node="${name}"} ${commit.within100}`,
    `chat_send_stage_seconds_bucket{le="+Inf",stage="commit",node="${name}"} ${commit.count}`,
    `chat_send_stage_seconds_sum{stage="commit",node="${name}"} 1.5`,
    `chat_send_stage_seconds_count{stage="commit",node="${name}"} ${commit.count}`,
    `chat_send_stage_seconds_bucket{le="0.05",stage="validate",node="${name}"} ${commit.count}`,
    `chat_send_stage_seconds_bucket{le="0.1",stage="validate",node="${name}"} ${commit.count}`,
    `chat_send_ack_seconds_bucket{le="0.05",node="${name}"} ${ack.within50}`,
    `chat_send_ack_seconds_bucket{le="0.1",node="${name}"} ${ack.within100}`,
    `chat_send_ack_seconds_bucket{le="0.25",node="${name}"} ${ack.count}`,
    `chat_send_ack_seconds_sum{node="${name}"} 2.5`,
    `chat_send_ack_seconds_count{node="${name}"} ${ack.count}`,
  ].join('\n');

describe('sendTotals', () => {
  it('sums each stage and the handler over the nodes, with the sends within 50 and 100 ms', () => {
    const { totals, within } = sendTotals([
      node('node-1', { within50: 90, within100: 99, count: 100 }, { within50: 80, within100: 95, count: 100 }),
      node('node-2', { within50: 40, within100: 48, count: 50 }, { within50: 45, within100: 50, count: 50 }),
    ]);
    expect(totals.commit).toEqual({ sum: 3, count: 150 });
    expect(totals.ack).toEqual({ sum: 5, count: 150 });
    expect(within.commit).toEqual({ '0.05': 130, '0.1': 147 });
    expect(within.ack).toEqual({ '0.05': 125, '0.1': 145 });
    expect(within.validate).toEqual({ '0.05': 150, '0.1': 150 });
    // Other bounds (0.025, 0.25, +Inf) are not read.
    expect(Object.keys(within.commit!)).toEqual(['0.05', '0.1']);
  });
});

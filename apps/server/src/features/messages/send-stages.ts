import type { Metrics } from '../../metrics';

/** The stages of a `message:send` on the node that `chat_send_stage_seconds` splits its time into. */
const STAGES = ['access', 'moderation', 'rate_limit', 'queue_wait', 'commit', 'emit'] as const;
type Stage = (typeof STAGES)[number];

/**
 * Times one send stage by stage (the latency budget in docs/performance.md): `lap(stage)` records the time
 * since the previous lap. The histogram children are bound once, so a lap is two clock reads and one
 * observation, not a label lookup.
 */
export function sendStageClock(metrics: Metrics): () => { lap(stage: Stage): void; record(stage: Stage, seconds: number): void } {
  const children = Object.fromEntries(STAGES.map((s) => [s, metrics.sendStages.labels(s)])) as Record<Stage, ReturnType<Metrics['sendStages']['labels']>>;
  return () => {
    let last = process.hrtime.bigint();
    return {
      lap(stage) {
        const now = process.hrtime.bigint();
        children[stage].observe(Number(now - last) / 1e9);
        last = now;
      },
      record(stage, seconds) {
        children[stage].observe(seconds);
        last = process.hrtime.bigint();
      },
    };
  };
}

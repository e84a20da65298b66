import type { Measurement } from '../src/load/chat-load';
import { rampRatios, rampTargets, runLabel, type RampRun, type Step } from '../src/scenarios/ramp';

// A step as the ratios read it: its rate, what was acknowledged, and the server processes' CPU (100 = a core).
function step(rate: number, serverCpuPercent: number, ok = true): Step {
  const m = { rate, ackedPerSecond: rate, usage: { 'node-1': { cpuPercent: serverCpuPercent }, 'load drivers': { cpuPercent: 50 } } };
  return { m: m as unknown as Measurement, ok, why: ok ? '' : 'delivery p99 too high' };
}

function run(kind: RampRun['kind'], nodes: number, steps: Step[]): RampRun {
  const best = steps.filter((s) => s.ok).sort((a, b) => b.m.rate - a.m.rate)[0];
  return { kind, nodes, describe: '', steps, best, stoppedBy: 'a missed step', unbounded: false };
}

describe('rampRatios', () => {
  test('compares CPU per message at the highest rate both node counts met, ours and the ceiling’s', () => {
    const runs = [
      run('chat', 1, [step(100, 30), step(200, 50), step(400, 90, false)]),
      run('ceiling', 1, [step(100, 10), step(200, 20), step(400, 40), step(800, 80, false)]),
      run('chat', 4, [step(100, 60), step(200, 80, false)]),
      run('ceiling', 4, [step(100, 25), step(200, 45), step(400, 90, false)]),
    ];
    const byLabel = new Map(rampRatios(runs, [1, 4]).map((r) => [r.label, r]));

    expect(byLabel.get('1 node(s): highest rate met, chat / ceiling (200 / 400 sends/s)')?.value).toBe(0.5);
    expect(byLabel.get('4 node(s): highest rate met, chat / ceiling (100 / 200 sends/s)')?.value).toBe(0.5);
    expect(byLabel.get('chat: highest rate met, 4 nodes / 1 node (100 / 200 sends/s)')?.value).toBe(0.5);
    // At 100/s, the highest rate both chat runs met: 6 / 3 ms per message, and the ceiling's 2.5 / 1 ms.
    const ours = byLabel.get('chat: server CPU per message at 100/s, 4 nodes / 1 node (6 / 3 ms)');
    expect(ours).toMatchObject({ value: 2, goal: { value: 1.3, direction: 'max' } });
    const bare = byLabel.get('ceiling: server CPU per message at 100/s, 4 processes / 1 process (2.5 / 1 ms)');
    expect(bare?.value).toBe(2.5);
    expect(bare?.goal).toBeUndefined();
  });

  test('gives no ceiling CPU ratio when a ceiling run did not meet that rate', () => {
    const runs = [
      run('chat', 1, [step(100, 30)]),
      run('ceiling', 1, [step(100, 10)]),
      run('chat', 4, [step(100, 60)]),
      run('ceiling', 4, [step(100, 25, false)]),
    ];
    const labels = rampRatios(runs, [1, 4]).map((r) => r.label);
    expect(labels.some((l) => l.startsWith('chat: server CPU per message at 100/s'))).toBe(true);
    expect(labels.some((l) => l.startsWith('ceiling: server CPU'))).toBe(false);
  });
});

describe('the receipt share (--receipt-share)', () => {
  test('compares our rate with receipts to the same nodes without, per node count, against the 70 % goal', () => {
    const without = (nodes: number, steps: Step[]): RampRun => ({ ...run('chat', nodes, steps), withoutReceipts: true });
    const runs = [
      run('chat', 4, [step(400, 60), step(800, 90, false)]),
      without(4, [step(400, 50), step(800, 70), step(1600, 95, false)]),
      run('ceiling', 4, [step(400, 25), step(800, 45), step(1600, 95, false)]),
    ];
    const ratios = rampRatios(runs, [4]);
    const share = ratios.find((r) => r.label === '4 node(s): highest rate met, chat with receipts / without (400 / 800 sends/s)');
    expect(share).toMatchObject({ value: 0.5, goal: { value: 0.7 } });
    // The run without receipts is not mistaken for ours against the ceiling.
    expect(ratios.find((r) => r.label.startsWith('4 node(s): highest rate met, chat / ceiling'))?.label).toBe('4 node(s): highest rate met, chat / ceiling (400 / 800 sends/s)');
  });

  test('adds our nodes without receipts to the targets, and refuses what cannot be compared', () => {
    expect(rampTargets({ against: 'chat', 'receipt-share': true })).toEqual([{ kind: 'chat' }, { kind: 'chat', withoutReceipts: true }]);
    expect(rampTargets({}).map(runLabel)).toEqual(['chat', 'ceiling']);
    expect(rampTargets({ 'receipt-share': true }).map(runLabel)).toEqual(['chat', 'ceiling', 'chat without receipts']);
    expect(() => rampTargets({ 'receipt-share': true, 'no-receipts': true })).toThrow('excludes --no-receipts');
    expect(() => rampTargets({ against: 'ceiling', 'receipt-share': true })).toThrow('needs --against chat or both');
  });
});

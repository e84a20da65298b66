// Whether a node is busy enough for its batches to go to the cluster's writer, or to be spaced
// (features/messages/rate-gate.ts): by its own send rate, with a margin. A pure class: a fake clock drives it.
import { RateGate } from '../src/features/messages/rate-gate';

function gate(minRate: number) {
  let now = 1_000_000;
  const g = new RateGate(minRate, () => now);
  return {
    g,
    send: (n: number) => {
      for (let i = 0; i < n; i++) g.count();
    },
    advance: (ms: number) => (now += ms),
  };
}

describe('rate gate', () => {
  test('a quiet node commits its own; a burst reaching the rate relays at once', () => {
    const { g, send } = gate(20);
    send(1);
    expect(g.open()).toBe(false);
    send(18);
    expect(g.open()).toBe(false);
    send(1);
    expect(g.open()).toBe(true);
  });

  test('once relaying, the node stays with the writer down to half the rate, and goes quiet below it', () => {
    const { g, send, advance } = gate(20);
    send(25);
    expect(g.open()).toBe(true);
    // The next second: 12 sends, under 20 but not under 10; the last whole second (25) still counts too.
    advance(1000);
    send(12);
    expect(g.open()).toBe(true);
    advance(1000);
    send(12);
    expect(g.open()).toBe(true);
    // A second of 9 after one of 12: the rate is still 12 while the second of 12 is the last whole one.
    advance(1000);
    send(9);
    expect(g.open()).toBe(true);
    advance(1000);
    send(9);
    expect(g.open()).toBe(false);
    // Quiet again: 12 a second no longer relays (the margin only holds while relaying).
    advance(1000);
    send(12);
    expect(g.open()).toBe(false);
  });

  test('a silent second in between forgets the rate', () => {
    const { g, send, advance } = gate(20);
    send(30);
    expect(g.open()).toBe(true);
    advance(2000);
    send(1);
    expect(g.open()).toBe(false);
  });

  test('a rate of 0 keeps the gate open', () => {
    const { g, send } = gate(0);
    expect(g.open()).toBe(true);
    send(1);
    expect(g.open()).toBe(true);
  });
});

import { randomInt } from 'node:crypto';
import type { ErrorObject } from '@chat/protocol';
import { connectRaw, type RawSocket, type TestNode } from './harness';

// Helpers of the admission tests: handshakes from chosen loopback source addresses, and the counters.

export type Attempt = { ok: true; socket: RawSocket } | { ok: false; message: string; error: ErrorObject | undefined };

/** A loopback address nobody else uses (the test files share one Redis, where budgets live by address). */
export function freshLoopbackAddress(): string {
  return `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(2, 255)}`;
}

/** One handshake from source address `from` (the whole 127/8 reaches a server listening on 127.0.0.1). */
export async function attempt(node: TestNode, token: string, from: string, headers?: Record<string, string>): Promise<Attempt> {
  try {
    const { socket } = await connectRaw(node, token, { localAddress: from, ...(headers ? { extraHeaders: headers } : {}) });
    return { ok: true, socket };
  } catch (err) {
    const e = err as Error & { data?: ErrorObject };
    return { ok: false, message: e.message, error: e.data };
  }
}

/** `chat_handshakes_total` for one result and reason (0 when the series does not exist yet). */
export async function handshakes(node: TestNode, result: string, reason: string): Promise<number> {
  const res = await fetch(`${node.url}/metrics`);
  const text = await res.text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('chat_handshakes_total{') && l.includes(`result="${result}"`) && l.includes(`reason="${reason}"`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

export function closeAll(attempts: Attempt[]): void {
  for (const a of attempts) if (a.ok) a.socket.close();
}

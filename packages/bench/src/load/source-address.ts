import { Agent } from 'node:http';

/**
 * Client source addresses on loopback: client i uses 127.0.K.1 with K = 1 + i mod count. The whole
 * 127.0.0.0/8 reaches this host, so each address plays a different client host. NGINX's `ip_hash` keys
 * on the first three octets, which is why K sits in the third; and the node's per-address admission
 * budget (20 new connections/s by default) counts each K separately.
 */
const MAX_SOURCE_ADDRESSES = 250;

export function sourceAddress(clientIndex: number, count: number): string {
  if (!Number.isInteger(count) || count < 1 || count > MAX_SOURCE_ADDRESSES) {
    throw new Error(`source address count must be 1…${MAX_SOURCE_ADDRESSES}, got ${count}`);
  }
  return `127.0.${1 + (clientIndex % count)}.1`;
}

/**
 * One HTTP agent per source address, shared by every client of that address in a process. `keepAlive`
 * for API calls; WebSocket upgrades take their socket out of the agent's pool, so their agent needs
 * neither keep-alive nor a socket cap.
 */
export class SourceAgents {
  private readonly agents = new Map<string, Agent>();

  constructor(private readonly kind: 'http' | 'websocket') {}

  for(address: string): Agent {
    let agent = this.agents.get(address);
    if (!agent) {
      agent = new Agent(this.kind === 'http' ? { localAddress: address, keepAlive: true, maxSockets: 8 } : { localAddress: address });
      this.agents.set(address, agent);
    }
    return agent;
  }

  destroy(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}

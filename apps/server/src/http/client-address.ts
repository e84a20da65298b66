import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';

/**
 * The client's address for an HTTP request or a Socket.IO handshake: the peer's address, or, when the peer
 * is a configured trusted proxy (TRUST_PROXY, addresses or CIDRs), the nearest untrusted hop of its
 * X-Forwarded-For. A client cannot forge its address by sending the header itself: hops are only believed
 * from trusted peers. The same rule as Fastify's `trustProxy` (which uses proxy-addr too), so `request.ip`
 * and the handshake agree.
 */
export function clientAddressResolver(trustProxy: readonly string[]): (req: IncomingMessage) => string {
  const trust = proxyAddr.compile([...trustProxy]);
  return (req) => proxyAddr(req, trust);
}

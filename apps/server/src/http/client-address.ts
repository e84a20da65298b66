import { BlockList, isIP } from 'node:net';

/**
 * The client's address, one implementation for HTTP requests (`request.clientAddress`: login and
 * registration budgets, request logs) and Socket.IO handshakes (admission budgets), configured by
 * TRUST_PROXY. Fastify's own `trustProxy` stays off, so no second rule exists beside this one.
 */

// The names proxy-addr (Express, Fastify) accepts, so TRUST_PROXY reads as it would there.
const NAMED_RANGES: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** The proxies whose X-Forwarded-For is believed: addresses, CIDRs, or the names above. */
export function trustedProxies(entries: readonly string[]): BlockList | undefined {
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of entries.flatMap((e) => NAMED_RANGES[e] ?? [e])) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (isIP(address) === 0) throw new Error(`TRUST_PROXY: not an address or CIDR: ${entry}`);
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return list;
}

function unmapped(address: string): string {
  // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
  return address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function isTrusted(trusted: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && trusted.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The client's address: the socket's peer, or, while that peer is a trusted proxy, the next hop to the
 * left in X-Forwarded-For (proxy-addr's rule). Walking from the right means a client cannot choose its
 * address by sending its own X-Forwarded-For: the entries it wrote lie left of the one our proxy appended.
 */
export function clientAddress(peer: string, forwardedFor: string | string[] | undefined, trusted: BlockList | undefined): string {
  let address = unmapped(peer);
  if (!trusted || forwardedFor === undefined) return address;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map((hop) => hop.trim())
    .filter(Boolean);
  while (hops.length > 0 && isTrusted(trusted, address)) {
    const next = unmapped(hops.pop()!);
    if (isIP(next) === 0) break;
    address = next;
  }
  return address;
}

/**
 * The rate-limit bucket of an address: IPv4 as is; IPv6 by its /64, since one subscriber is routinely given
 * a whole /64 and could otherwise take a fresh budget per address.
 */
export function addressBucket(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head, tail] = address.split('%')[0]!.toLowerCase().split('::');
  // An embedded dotted IPv4 tail counts as two groups; it only ever sits in the last 32 bits.
  const groups = (part: string | undefined) => (part ? part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : []);
  const left = groups(head);
  const right = groups(tail);
  const full = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  const prefix = full.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, ''));
  return `${prefix.join(':')}::/64`;
}

/** Resolves client addresses by the TRUST_PROXY rule: `(peer, X-Forwarded-For) → address`. */
export type ClientAddressResolver = (peer: string, forwardedFor: string | string[] | undefined) => string;

export function clientAddressResolver(trustProxy: readonly string[]): ClientAddressResolver {
  const trusted = trustedProxies(trustProxy);
  return (peer, forwardedFor) => clientAddress(peer, forwardedFor, trusted);
}

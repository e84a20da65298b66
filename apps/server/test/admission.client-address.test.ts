import { addressBucket, clientAddress, trustedProxies } from '../src/http/client-address';

// Which address a handshake is counted against (plain functions; the handshakes themselves are in
// admission.handshake.test.ts).

describe('client address behind trusted proxies', () => {
  test('without trusted proxies the peer is the client, whatever X-Forwarded-For says', () => {
    expect(clientAddress('203.0.113.7', '198.51.100.1', undefined)).toBe('203.0.113.7');
    expect(clientAddress('::ffff:203.0.113.7', undefined, undefined)).toBe('203.0.113.7');
  });

  test('a trusted peer hands over to the hop it forwarded for; a client cannot pick its own address', () => {
    const trusted = trustedProxies(['10.0.0.0/8', '127.0.0.1']);
    // NGINX at 10.0.0.5 appended the real peer 203.0.113.7 after whatever the client sent.
    expect(clientAddress('10.0.0.5', '1.2.3.4, 203.0.113.7', trusted)).toBe('203.0.113.7');
    // Two proxies in a row, both trusted.
    expect(clientAddress('127.0.0.1', '203.0.113.7, 10.1.2.3', trusted)).toBe('203.0.113.7');
    // Repeated headers arrive as an array.
    expect(clientAddress('10.0.0.5', ['1.2.3.4', '203.0.113.8'], trusted)).toBe('203.0.113.8');
    // An untrusted peer's header is ignored.
    expect(clientAddress('198.51.100.9', '1.2.3.4', trusted)).toBe('198.51.100.9');
    // Garbage stops the walk at the last proxy, so it cannot mint fresh budgets.
    expect(clientAddress('10.0.0.5', 'not-an-ip', trusted)).toBe('10.0.0.5');
    // A trusted peer without the header is the client.
    expect(clientAddress('10.0.0.5', undefined, trusted)).toBe('10.0.0.5');
  });

  test("proxy-addr's names work as in Fastify's trustProxy, and a bad entry is refused at start", () => {
    const trusted = trustedProxies(['loopback', 'uniquelocal']);
    expect(clientAddress('127.0.0.1', '203.0.113.7', trusted)).toBe('203.0.113.7');
    expect(clientAddress('192.168.1.1', '203.0.113.7', trusted)).toBe('203.0.113.7');
    expect(clientAddress('::1', '2001:db8::1', trusted)).toBe('2001:db8::1');
    expect(trustedProxies([])).toBeUndefined();
    expect(() => trustedProxies(['nginx.local'])).toThrow(/TRUST_PROXY/);
  });
});

describe('rate-limit bucket of an address', () => {
  test('IPv4 addresses are their own bucket', () => {
    expect(addressBucket('127.0.0.2')).toBe('127.0.0.2');
    expect(addressBucket('203.0.113.7')).not.toBe(addressBucket('203.0.113.8'));
  });

  test('IPv6 addresses share the bucket of their /64, however they are written', () => {
    const bucket = addressBucket('2001:db8:1:2::1');
    expect(bucket).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:0db8:0001:0002:ffff:1:2:3')).toBe(bucket);
    expect(addressBucket('2001:DB8:1:2:0:0:0:9')).toBe(bucket);
    expect(addressBucket('2001:db8:1:3::1')).not.toBe(bucket);
    expect(addressBucket('::1')).toBe('0:0:0:0::/64');
    expect(addressBucket('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressBucket('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
  });
});

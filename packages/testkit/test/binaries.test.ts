import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { isAbsolute } from 'node:path';
import { findBinary, freePort } from '../src/index';

describe('findBinary', () => {
  it('throws an error naming a missing binary', () => {
    expect(() => findBinary('definitely-not-a-binary')).toThrow(/"definitely-not-a-binary" not found/);
  });

  it('names the install command for known services', () => {
    const original = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(() => findBinary('redis-server')).toThrow(/apt-get install -y redis-server/);
      expect(() => findBinary('nginx')).toThrow(/apt-get install -y nginx/);
    } finally {
      process.env.PATH = original;
    }
  });

  it('finds initdb, off PATH on Debian, as an absolute executable path', () => {
    const path = findBinary('initdb');
    expect(isAbsolute(path)).toBe(true);
    expect(path).toMatch(/\/initdb$/);
    expect(() => accessSync(path, constants.X_OK)).not.toThrow();
  });
});

describe('freePort', () => {
  it('returns a port that can be listened on at 127.0.0.1', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  });
});

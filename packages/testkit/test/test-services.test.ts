import { testServices } from '../src/index';

describe('testServices()', () => {
  it('returns the URLs exported by the jest global setup', () => {
    const services = testServices();
    expect(services.databaseUrl).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(services.replicaUrl).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(services.replicaUrl).not.toBe(services.databaseUrl);
    expect(services.redisUrl).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
  });

  it('throws a clear error when global setup did not run', () => {
    const saved = process.env.TEST_DATABASE_URL;
    delete process.env.TEST_DATABASE_URL;
    try {
      expect(() => testServices()).toThrow(/TEST_DATABASE_URL is not set: the jest global setup/);
    } finally {
      process.env.TEST_DATABASE_URL = saved;
    }
  });
});

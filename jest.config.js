/** @type {import('jest').Config} */


// One jest run for the whole workspace. TypeScript is compiled by SWC (type checking is `pnpm typecheck`).
// The global setup starts real PostgreSQL (primary + streaming replica) and Redis on free loopback ports.
const transform = {
  '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
};

const config = {
  testEnvironment: 'node',
  transform,
  testMatch: ['<rootDir>/{apps,packages}/*/test/**/*.test.ts'],
  globalSetup: '<rootDir>/packages/testkit/src/jest/global-setup.ts',
  globalTeardown: '<rootDir>/packages/testkit/src/jest/global-teardown.ts',
  // Some dependencies ship only as ES modules (kysely; content-disposition under @fastify/static; cookie under light-my-request):
  // let SWC turn them into CommonJS like our own code.
  transformIgnorePatterns: ['/node_modules/(?!(\\.pnpm/)?(kysely|content-disposition|cookie)[@/])'],
  testTimeout: 60_000,
  maxWorkers: 2,
};

module.exports = config;

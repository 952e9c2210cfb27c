/**
 * Integration and end-to-end tests against the real Postgres, RabbitMQ, Redis and the
 * local S3 server. Each file makes its own database, vhost and bucket.
 */
module.exports = {
  ...require('./jest.preset'),
  rootDir: __dirname,
  displayName: 'integration',
  testMatch: ['<rootDir>/{apps,libs,tools}/**/*.int-spec.ts', '<rootDir>/apps/e2e/**/*.e2e-spec.ts'],
  testTimeout: 60_000,
  maxWorkers: 2,
};

// Shared jest settings: ts-jest transpiles only (types are checked by `tsc` in the build),
// path aliases from tsconfig.base.json, UTC everywhere.
process.env.TZ = 'UTC';
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json', diagnostics: false }],
    // ESM-only dependencies, turned into CommonJS for jest (Node itself loads them with require())
    '^.+/node_modules/eventsource-parser/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022', isolatedModules: true }, diagnostics: false },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!eventsource-parser/)'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    '^@dvd/contracts$': '<rootDir>/libs/contracts/src/index.ts',
    '^@dvd/platform$': '<rootDir>/libs/platform/src/index.ts',
    '^@dvd/platform/core$': '<rootDir>/libs/platform/src/core.ts',
    '^@dvd/platform/telemetry$': '<rootDir>/libs/platform/src/telemetry/index.ts',
    '^@dvd/testing$': '<rootDir>/libs/testing/src/index.ts',
    '^@dvd/sdk$': '<rootDir>/libs/sdk/src/index.ts',
    '^@dvd/sdk/node$': '<rootDir>/libs/sdk/src/node/index.ts',
  },
  setupFiles: ['reflect-metadata'],
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
};

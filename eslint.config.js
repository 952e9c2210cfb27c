// Lint with type information, and the Nx module-boundary matrix that keeps the layers honest:
// apps → platform, contracts; platform → contracts; contracts → nothing of ours and no
// framework; testing → only from tests (and dev tooling).
const nx = require('@nx/eslint-plugin');
const tseslint = require('typescript-eslint');

/** The tag matrix. Only test files (forTests) may reach into libs/testing. */
function boundaries(forTests) {
  const testing = forTests ? ['type:testing'] : [];
  return {
    enforceBuildableLibDependency: false,
    allow: [],
    // testing → platform is real; platform → testing exists only in platform's own test
    // files (the tag matrix below still forbids it everywhere else).
    ignoredCircularDependencies: [['platform', 'testing']],
    depConstraints: [
      { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', ...testing] },
      { sourceTag: 'type:platform', onlyDependOnLibsWithTags: ['type:contracts', ...testing] },
      {
        sourceTag: 'type:contracts',
        onlyDependOnLibsWithTags: [...testing],
        bannedExternalImports: ['@nestjs/*', 'typeorm', 'express', 'amqplib', 'amqp-connection-manager', 'pg', 'ioredis', '@aws-sdk/*'],
      },
      {
        sourceTag: 'type:sdk',
        onlyDependOnLibsWithTags: ['type:contracts', ...testing],
        bannedExternalImports: ['@nestjs/*', 'typeorm', 'express', 'amqplib', 'amqp-connection-manager', 'pg', 'ioredis', '@aws-sdk/*'],
      },
      { sourceTag: 'type:client', onlyDependOnLibsWithTags: ['type:sdk', 'type:contracts', ...testing] },
      { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:platform', 'type:contracts', 'type:sdk'] },
      { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:testing', 'type:platform', 'type:contracts', 'type:sdk'] },
      { sourceTag: 'type:tooling', onlyDependOnLibsWithTags: ['type:testing', 'type:platform', 'type:contracts', 'type:sdk'] },
    ],
  };
}

module.exports = tseslint.config(
  { ignores: ['**/__boundary_probe*__.ts', '**/dist', '**/node_modules', '**/.nx', 'coverage', '.data', 'tmp', '**/*.js'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mts'],
    plugins: { '@nx': nx },
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: [] }, tsconfigRootDir: __dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      'no-console': 'error',
      '@nx/enforce-module-boundaries': ['error', boundaries(false)],
    },
  },
  {
    // Tests may use the testing harness and talk loosely to what they inspect.
    files: ['**/*.spec.ts', '**/*.spec.tsx', '**/*.int-spec.ts', '**/*.e2e-spec.ts', 'apps/*/test/**/*.ts', 'apps/e2e/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', boundaries(true)],
      'no-console': 'off',
    },
  },
  {
    files: ['tools/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    // The SDK's main entry runs in browsers: no Node built-in (only its `node/` entry may use them).
    files: ['libs/sdk/src/**/*.ts'],
    ignores: ['libs/sdk/src/node/**', 'libs/sdk/src/**/*.spec.ts', 'libs/sdk/src/**/*.int-spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^node:', message: 'The SDK runs in browsers: use Web APIs (Node-only code goes to libs/sdk/src/node).' }] },
      ],
      'no-restricted-globals': ['error', { name: 'Buffer', message: 'The SDK runs in browsers: use Uint8Array.' }, 'process'],
    },
  },
  {
    // The browser app: Web APIs only (its build config runs in Node).
    files: ['apps/web/src/**/*.ts', 'apps/web/src/**/*.tsx'],
    ignores: ['apps/web/src/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^node:', message: 'apps/web runs in browsers: use Web APIs.' }] },
      ],
      'no-restricted-globals': ['error', { name: 'Buffer', message: 'apps/web runs in browsers: use Uint8Array.' }, 'process'],
      // tokens live in memory only (ADR 0018); the language choice and the login round trip have their own keys
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name=/^(localStorage|sessionStorage)$/][callee.property.name='setItem'] > Literal:first-child[value=/token/i]",
          message: 'Tokens are kept in memory only (ADR 0018).',
        },
      ],
    },
  },
);

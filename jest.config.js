/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // One local Azure serves every test file; knobs are global to it, so files run one at a time.
  maxWorkers: 1,
  // Its vaults, storage accounts and registries are named under *.localhost, which this resolves to 127.0.0.1.
  setupFiles: ['<rootDir>/test/local-azure/loopback-names.cjs'],
  // Type checking is `tsc --noEmit` in `npm test`; jest only transpiles.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }] },
  // @actions/core 3 is ESM-only: jest's CommonJS runtime cannot load it, so unit tests get a small fake.
  moduleNameMapper: { '^@actions/core$': '<rootDir>/test/unit/fakes/actions-core.ts' },
};

/** One jest run for the whole workspace: unit specs next to the code, integration tests in each
 * service's test/ folder, end-to-end tests in e2e/. Types are checked by `tsc`, not here. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/services', '<rootDir>/tools', '<rootDir>/e2e', '<rootDir>/deploy'],
  testMatch: ['**/*.spec.ts', '**/test/**/*.test.ts', '**/e2e/**/*.e2e.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', diagnostics: false }] },
  testTimeout: 30000,
  maxWorkers: 2,
};

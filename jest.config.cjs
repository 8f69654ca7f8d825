/** Tests run TypeScript through swc; the default backend (wasm) is set in test/setup.ts. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  setupFilesAfterEnv: ['<rootDir>/test/setup.ts'],
  // Examples import the package by name, as users do; tests run them against the sources.
  moduleNameMapper: { '^mst-ts$': '<rootDir>/src/index.ts' },
  testTimeout: 120000,
  maxWorkers: 2,
};

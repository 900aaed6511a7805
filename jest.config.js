// Jest in native ESM mode (run through `pnpm jest`, which sets --experimental-vm-modules).
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } },
    ],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/{packages,actions}/*/test/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  cacheDirectory: '<rootDir>/.jest-cache',
  testTimeout: 60000,
};

// Shared Jest settings. Jest runs in its ESM mode (Nest 12 and jose 6 ship only ES modules):
// package.json sets NODE_OPTIONS=--experimental-vm-modules.
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    target: 'es2023',
    keepClassNames: true,
    transform: { legacyDecorator: true, decoratorMetadata: true },
  },
  module: { type: 'es6' },
};
module.exports = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // the libraries in libs/ (Nest monorepo projects, see nest-cli.json), by their path aliases
    '^@latchkey/resource-server$': '<rootDir>/libs/resource-server/src/index.ts',
    '^@latchkey/pkce-client$': '<rootDir>/libs/pkce-client/src/index.ts',
  },
  testEnvironment: 'node',
};

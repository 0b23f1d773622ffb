const common = require('./jest.common.cjs');
module.exports = {
  ...common,
  maxWorkers: 1,
  testTimeout: 60000,
  testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'],
};

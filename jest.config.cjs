const common = require('./jest.common.cjs');

const onPostgres = /^postgres(ql)?:\/\//.test(process.env.DATABASE_URL ?? '');

module.exports = {
  maxWorkers: 2,
  testTimeout: 30000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.spec.ts'] },
    { ...common, displayName: 'libs', testMatch: ['<rootDir>/libs/*/test/**/*.spec.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.int-spec.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'] },
    // the worked examples (docs/extending.md): they boot the real app with the example's modules
    { ...common, displayName: 'examples', testMatch: ['<rootDir>/examples/*/test/**/*.spec.ts'] },
    // Tests that need a PostgreSQL server (several app processes on one database, a database outage):
    // selected by `npm run test:pg` / .ci/run, where DATABASE_URL points at PostgreSQL.
    ...(onPostgres
      ? [{ ...common, displayName: 'postgres', testMatch: ['<rootDir>/test/postgres/**/*.pg-spec.ts'] }]
      : []),
  ],
};

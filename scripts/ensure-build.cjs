// `npm run cli` on a tree without dist/ (e.g. installed with --ignore-scripts) builds first.
const { existsSync } = require('node:fs');
const { execFileSync } = require('node:child_process');
if (!existsSync('dist/src/cli.js')) {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: ['ignore', 2, 2] });
}

// Compiles src/ and migrations/ to dist/ with swc (type checking is `npm run typecheck`).
// Kept as a script so that `npm ci` (prepare) and `npm start` work with no global tools.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const swc = require.resolve('@swc/cli/bin/swc.js');
rmSync('dist', { recursive: true, force: true });
for (const dir of ['src', 'migrations']) {
  execFileSync(process.execPath, [swc, dir, '-d', `dist/${dir}`, '--strip-leading-paths', '--quiet'], { stdio: 'inherit' });
}
// A migrated PGlite template makes the first `npm start` fast (see src/database/build-pglite-template.ts).
execFileSync(process.execPath, ['dist/src/database/build-pglite-template.js'], { stdio: 'inherit' });

// Compiles src/ and migrations/ to dist/ with swc (type checking is `npm run typecheck`).
// Kept as a script so that `npm ci` (prepare) and `npm start` work with no global tools.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const swc = require.resolve('@swc/cli/bin/swc.js');
rmSync('dist', { recursive: true, force: true });
for (const dir of ['src', 'migrations']) {
  execFileSync(process.execPath, [swc, dir, '-d', `dist/${dir}`, '--strip-leading-paths', '--quiet'], { stdio: 'inherit' });
}
// The libraries (libs/) and their example (examples/): the @latchkey/* path aliases of tsconfig.json are
// rewritten to relative imports (swc needs an absolute baseUrl, hence a generated config). The server does not
// need them: the Docker image's build has neither directory.
const swcrc = JSON.parse(readFileSync('.swcrc', 'utf8'));
swcrc.jsc.baseUrl = process.cwd();
swcrc.jsc.paths = JSON.parse(readFileSync('tsconfig.json', 'utf8')).compilerOptions.paths;
const configDir = mkdtempSync(join(tmpdir(), 'latchkey-swc-'));
writeFileSync(join(configDir, '.swcrc'), JSON.stringify(swcrc));
for (const dir of ['libs', 'examples'].filter((d) => existsSync(d))) {
  execFileSync(
    process.execPath,
    [swc, dir, '-d', `dist/${dir}`, '--strip-leading-paths', '--quiet', '--config-file', join(configDir, '.swcrc'), '--ignore', '**/test/**'],
    { stdio: 'inherit' },
  );
}
rmSync(configDir, { recursive: true, force: true });
// A migrated PGlite template makes the first `npm start` fast (see src/database/build-pglite-template.ts).
execFileSync(process.execPath, ['dist/src/database/build-pglite-template.js'], { stdio: 'inherit' });

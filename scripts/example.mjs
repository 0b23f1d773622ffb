// `npm run example`: the example app of the two libraries (examples/bff) against a running Latchkey.
// Builds if needed; registers the example's client at Latchkey once through the CLI (kept in
// $DATA_DIR/example-client.json, so run it in the directory of the server, with the server's environment),
// unless EXAMPLE_CLIENT_ID is set; then starts the example on http://127.0.0.1:$EXAMPLE_PORT (default 4000).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const main = 'dist/examples/bff/src/main.js';
if (!existsSync(main)) execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });

const env = { ...process.env };
const port = env.EXAMPLE_PORT ?? '4000';
const scope = env.EXAMPLE_SCOPE ?? 'api:read';
if (!env.EXAMPLE_CLIENT_ID) {
  const dataDir = env.DATA_DIR ?? './data';
  const saved = join(dataDir, `example-client-${port}.json`);
  if (!existsSync(saved)) {
    console.log('registering the example client at Latchkey (npm run cli -- client:create …)');
    const out = execFileSync(
      process.execPath,
      [
        'dist/src/cli.js',
        'client:create',
        '--name',
        'Latchkey example (BFF)',
        '--redirect-uri',
        `http://127.0.0.1:${port}/auth/callback`,
        '--grant-types',
        'authorization_code,refresh_token',
        '--scope',
        scope,
        '--json',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const { client_id, client_secret } = JSON.parse(out);
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(saved, JSON.stringify({ client_id, client_secret }), { mode: 0o600 });
  }
  const { client_id, client_secret } = JSON.parse(readFileSync(saved, 'utf8'));
  env.EXAMPLE_CLIENT_ID = client_id;
  env.EXAMPLE_CLIENT_SECRET = client_secret;
}

const child = spawn(process.execPath, ['--enable-source-maps', main], { env, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 1));

import { resolve } from 'node:path';
import type { LatchkeyEnvironment } from './config/environment';

/** Where the data is, in words; a PostgreSQL URL without its user and password. */
export function describeDatabase(env: Pick<LatchkeyEnvironment, 'database'>): string {
  const db = env.database;
  if (db.kind === 'postgres') {
    const url = new URL(db.url);
    return `PostgreSQL ${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}`;
  }
  return db.dataDir ? `PGlite (embedded) in ${db.dataDir}` : 'PGlite (embedded) in memory: nothing is kept';
}

/**
 * The development start-up banner (LOG_FORMAT=text): where the server is, where its data lives, and the next
 * three things to do. Production (LOG_FORMAT=json) logs one JSON line instead.
 */
export function startupBanner(
  env: Pick<
    LatchkeyEnvironment,
    'issuer' | 'database' | 'dataDir' | 'docs' | 'developmentSecrets' | 'port' | 'branding'
  >,
  version: string,
  ms: number,
): string {
  // the CLI and the tour take the server's environment: repeat what differs from the defaults
  const portPrefix =
    (env.port === 3000 ? '' : `PORT=${env.port} `) +
    (env.dataDir === resolve('data') ? '' : `DATA_DIR=${env.dataDir} `) +
    (env.database.kind === 'postgres' ? 'DATABASE_URL=… ' : '');
  const rows: Array<[string, string]> = [
    ['Issuer', env.issuer],
    ['Database', describeDatabase(env)],
    [
      'Data dir',
      `${env.dataDir}${env.developmentSecrets ? ' (development secrets in secrets.json, CLI socket)' : ''}`,
    ],
    ['API docs', env.docs === 'off' ? 'off (DOCS=off)' : `${env.issuer}/docs`],
    ['Audit', `${env.issuer}/audit`],
  ];
  const lines = [
    '',
    `  ${env.branding.name}${env.branding.name === 'Latchkey' ? '' : ' (Latchkey)'} ${version} ready in ${Math.round(ms)} ms`,
    '',
    ...rows.map(([k, v]) => `  ${k.padEnd(9)} ${v}`),
    '',
    '  Next, in another terminal:',
    `    ${portPrefix}npm run cli -- client:create --name admin --grant-types client_credentials --scope "clients:read clients:write audit:read"`,
    `    ${portPrefix}npm run cli -- user:create --username ada --password-stdin`,
    `    ${portPrefix}bash scripts/tour.sh        # the whole tour: a token, a refresh, a security report`,
    '',
  ];
  return lines.join('\n') + '\n';
}

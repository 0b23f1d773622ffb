import request from 'supertest';
import { CliError } from '../../src/operations/cli-command.decorator';
import { dispatch } from '../../src/cli/cli-dispatcher';
import { CliOperations } from '../../src/operations/cli-operations.service';
import { ClientsService } from '../../src/clients/clients.service';
import { setEnvironment } from '../../src/config/config.namespaces';
import { loadEnvironment } from '../../src/config/environment';
import { sql } from '../../src/database/sql';
import { recordAuditEvents, type AuditEventRecorder } from '../factories/audit-events';
import { ADMIN_SCOPES, insertGrant, mintAccessToken } from '../factories/clients';
import { createTestApp, TEST_KEY_ENCRYPTION_KEY, TEST_SESSION_SECRET, TestApp } from '../helpers/test-app';

describe('CLI client:create', () => {
  let t: TestApp;
  let audit: AuditEventRecorder;

  beforeAll(async () => {
    t = await createTestApp();
    audit = recordAuditEvents(t);
  });
  afterAll(async () => {
    audit.stop();
    await t.close();
  });

  const run = (options: Record<string, unknown>) =>
    t.get(CliOperations).execute('client:create', { redirectUris: [], ...options });

  it('registers the DPoP and PAR requirements (--dpop-bound, --require-par)', async () => {
    const result = await run({
      name: 'fapi',
      authMethod: 'none',
      redirectUris: ['https://fapi.example/cb'],
      dpopBound: true,
      requirePar: true,
    });
    expect(result).toMatchObject({
      dpop_bound_access_tokens: true,
      require_pushed_authorization_requests: true,
    });
    const plain = await run({ name: 'plain', grantTypes: ['client_credentials'], scope: 'api:read' });
    expect(plain).toMatchObject({
      dpop_bound_access_tokens: false,
      require_pushed_authorization_requests: false,
    });
  });

  it('bootstraps the first admin client: built-in scopes are allowed to the operator', async () => {
    const result = await run({ name: 'admin', grantTypes: ['client_credentials'], scope: ADMIN_SCOPES });
    expect(result).toMatchObject({
      client_id: expect.stringMatching(/^lk_/),
      client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      client_name: 'admin',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: ADMIN_SCOPES,
      redirect_uris: [],
      enabled: true,
    });
    const clientId = result.client_id as string;
    const client = await t.get(ClientsService).findEnabled(clientId);
    expect(client?.secretMatches(result.client_secret as string)).toBe(true);
    const [row] = await sql<{ created_by: string }>(
      t.dataSource,
      `SELECT created_by FROM clients WHERE client_id = $1`,
      [clientId],
    );
    expect(row.created_by).toBe('cli');
    const event = audit.events.find((e) => e.type === 'client.created' && e.subject === clientId);
    expect(event?.details).toMatchObject({ actor: 'cli' });
    expect(event?.clientId).toBeNull();

    // and it can then administer clients with a token of its own
    const grantId = await insertGrant(t, clientId, ADMIN_SCOPES);
    const token = mintAccessToken(t, { clientId, scope: ADMIN_SCOPES, grantId });
    const list = await request(t.url)
      .get('/admin/clients')
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    expect(list.body.items.map((c: any) => c.client_id)).toContain(clientId);
  });

  it('registers a public client with redirect URIs and prints no secret', async () => {
    const result = await run({
      name: 'cli app',
      authMethod: 'none',
      redirectUris: ['http://127.0.0.1:8080/cb', 'com.example.app:/cb'],
      grantTypes: ['authorization_code', 'refresh_token'],
      scope: 'api:read',
    });
    expect(result.client_secret).toBeUndefined();
    expect(result).toMatchObject({
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://127.0.0.1:8080/cb', 'com.example.app:/cb'],
    });
  });

  it.each([
    ['no redirect URI with authorization_code', { name: 'x' }, '--redirect-uri'],
    ['an empty name', { name: '', grantTypes: ['client_credentials'] }, '--name'],
    ['no name at all', { grantTypes: ['client_credentials'] }, '--name'],
    ['a name that is not a string', { name: 5, grantTypes: ['client_credentials'] }, '--name'],
    [
      'an unknown auth method',
      { name: 'x', authMethod: 'private_key_jwt', grantTypes: ['client_credentials'] },
      '--auth-method',
    ],
    ['an unknown grant type', { name: 'x', grantTypes: ['password'] }, '--grant-types'],
    ['a localhost redirect URI', { name: 'x', redirectUris: ['http://localhost/cb'] }, '--redirect-uri'],
    ['an unknown scope', { name: 'x', grantTypes: ['client_credentials'], scope: 'root' }, '--scope'],
    [
      'a built-in scope on a public client',
      { name: 'x', authMethod: 'none', redirectUris: ['https://a.example/cb'], scope: 'clients:read' },
      '--scope',
    ],
    [
      'client_credentials on a public client',
      { name: 'x', authMethod: 'none', grantTypes: ['client_credentials'] },
      '--grant-types',
    ],
  ])('refuses %s, naming the flag', async (_label, options, flag) => {
    const attempt = run(options);
    await expect(attempt).rejects.toBeInstanceOf(CliError);
    await expect(attempt).rejects.toThrow(flag);
  });

  it('runs through the CLI dispatcher where the data lives (server socket on PGlite, in-process on PostgreSQL)', async () => {
    const env = loadEnvironment({
      NODE_ENV: 'test',
      DATABASE_URL: t.database.url,
      DATA_DIR: t.database.dataDir,
      KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
      SESSION_SECRET: TEST_SESSION_SECRET,
      ISSUER: t.url,
      LOG_LEVEL: 'silent',
    });
    setEnvironment(env);
    let result: Record<string, unknown>;
    try {
      result = await dispatch(env, 'client:create', {
        name: 'dispatched',
        redirectUris: [],
        grantTypes: ['client_credentials'],
        scope: 'clients:read',
      });
    } finally {
      setEnvironment(undefined);
    }
    const client = await t.get(ClientsService).findEnabled(result.client_id as string);
    expect(client?.clientName).toBe('dispatched');
    expect(client?.secretMatches(result.client_secret as string)).toBe(true);
  });
});

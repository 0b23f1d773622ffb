import { AuthorizeRequestValidator } from '../../../src/authorization/authorize-request.validator';
import { parseQueryParameters } from '../../../src/authorization/checks/query-parameters';

const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const client = {
  clientId: 'app',
  clientName: 'App',
  redirectUris: ['https://app.example.com/cb'],
  grantTypes: ['authorization_code'],
  scopes: ['api:read', 'api:write'],
  requireConsent: false,
  isPublic: true,
  enabled: true,
};

function validator(clients: Record<string, typeof client | 'disabled'> = { app: client }) {
  const clientsService = {
    findEnabled: async (id: string) => {
      const c = clients[id];
      return c && c !== 'disabled' ? { ...c, secretMatches: () => false } : null;
    },
  };
  const requests = {
    clientEnabled: async (id: string) =>
      clients[id] === 'disabled' ? false : clients[id] ? true : undefined,
  };
  return new AuthorizeRequestValidator(
    clientsService as never,
    requests as never,
    { scopes: ['api:read', 'api:write'] } as never,
  );
}

const valid = {
  client_id: 'app',
  redirect_uri: 'https://app.example.com/cb',
  response_type: 'code',
  code_challenge: challenge,
  code_challenge_method: 'S256',
  state: 'st',
};

function query(
  params: Record<string, string | undefined>,
  extra = '',
): ReturnType<typeof parseQueryParameters> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.append(k, v);
  return parseQueryParameters(q.toString() + extra);
}

describe('authorization request rules, in the contract’s order', () => {
  it('accepts a valid request and defaults the scope', async () => {
    const r = await validator().validate(query(valid));
    expect(r).toMatchObject({
      kind: 'valid',
      request: {
        redirectUri: valid.redirect_uri,
        scopes: ['api:read', 'api:write'],
        state: 'st',
        codeChallenge: challenge,
      },
    });
  });

  it('checks the client and redirect URI before anything else (page, not redirect)', async () => {
    const broken = { ...valid, response_type: undefined, code_challenge: undefined };
    expect(await validator().validate(query({ ...broken, client_id: 'nope' }))).toMatchObject({
      kind: 'page',
      rejection: { reason: 'unknown_client' },
      clientId: 'nope',
    });
    expect(await validator({ app: 'disabled' }).validate(query(broken))).toMatchObject({
      kind: 'page',
      rejection: { reason: 'client_disabled' },
    });
    expect(
      await validator().validate(query({ ...broken, redirect_uri: 'https://evil.example/cb' })),
    ).toMatchObject({
      kind: 'page',
      rejection: { reason: 'redirect_uri_mismatch' },
    });
    expect(await validator().validate(query({ ...valid, client_id: undefined }))).toMatchObject({
      kind: 'page',
      rejection: { reason: 'invalid_request' },
      clientId: null,
    });
    expect(
      await validator().validate(query(valid, '&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb')),
    ).toMatchObject({
      kind: 'page',
      rejection: { reason: 'duplicate_parameter' },
    });
  });

  it('then refuses repeated parameters before reading them', async () => {
    const r = await validator().validate(
      query({ ...valid, code_challenge: undefined }, '&response_type=token'),
    );
    expect(r).toMatchObject({ kind: 'redirect', rejection: { reason: 'duplicate_parameter' }, state: 'st' });
  });

  it('then response_type, then the grant type, then PKCE, then scope', async () => {
    const v = validator({
      app: client,
      cc: { ...client, clientId: 'cc', grantTypes: ['client_credentials'] },
    });
    expect(
      await v.validate(query({ ...valid, response_type: 'token', code_challenge: undefined })),
    ).toMatchObject({
      rejection: { error: 'unsupported_response_type' },
    });
    expect(await v.validate(query({ ...valid, client_id: 'cc', code_challenge: undefined }))).toMatchObject({
      rejection: { error: 'unauthorized_client' },
    });
    expect(
      await v.validate(query({ ...valid, code_challenge: undefined, scope: 'audit:read' })),
    ).toMatchObject({
      rejection: { reason: 'pkce_missing_challenge' },
    });
    expect(await v.validate(query({ ...valid, scope: 'audit:read' }))).toMatchObject({
      kind: 'redirect',
      rejection: { error: 'invalid_scope' },
    });
  });

  it('returns state only when it was sent exactly once and not empty', async () => {
    const bad = { ...valid, response_type: 'token' };
    expect(await validator().validate(query({ ...bad, state: undefined }))).toMatchObject({ state: null });
    expect(await validator().validate(query({ ...bad, state: '' }))).toMatchObject({ state: null });
    expect(await validator().validate(query(bad, '&state=other'))).toMatchObject({ state: null });
  });
});

import {
  clientNameProblems,
  clientRuleViolations,
  ClientShape,
  generateClientId,
  grantTypesProblems,
  isUuidShaped,
  redirectUriProblem,
  redirectUrisProblems,
  RuleContext,
  scopeSyntaxProblems,
} from '../../../src/clients/client-rules';

describe('redirectUriProblem', () => {
  it.each([
    'https://app.example.com/oauth/callback',
    'https://app.example.com:8443/cb?tenant=eu',
    'HTTPS://App.Example.com/cb',
    'https://192.0.2.10/cb',
    'http://127.0.0.1/callback',
    'http://127.0.0.1:51234/callback',
    'http://127.0.0.1',
    'http://[::1]/cb',
    'http://[::1]:8080/cb?x=1',
    'com.example.app:/oauth2redirect',
    'com.example.app://callback',
    'io.github.someone.tool:/cb',
  ])('accepts %s', (uri) => {
    expect(redirectUriProblem(uri)).toBeNull();
  });

  it.each([
    ['', /empty/],
    ['/relative/path', /absolute/],
    ['app.example.com/cb', /absolute/],
    ['https://app.example.com/cb#section', /fragment/],
    ['https://app.example.com/cb#', /fragment/],
    ['http://app.example.com/cb', /https/],
    ['http://10.0.0.1/cb', /https/],
    ['http://127.0.0.2/cb', /https/],
    ['http://127.0.0.1.nip.io/cb', /https/],
    ['http://127.0.0.1@evil.example/cb', /credentials|https/],
    ['http://localhost/cb', /localhost/],
    ['http://localhost:3000/cb', /localhost/],
    ['https://localhost/cb', /localhost/],
    ['https://api.localhost/cb', /localhost/],
    ['https://user:pass@app.example.com/cb', /credentials/],
    ['https:///cb', /host/],
    ['https:cb', /host/],
    ['javascript:alert(1)', /private-use/],
    ['data:text/html,<script>', /private-use|printable/],
    ['file:///etc/passwd', /private-use/],
    ['myapp:/cb', /private-use/],
    ['com.example.app:', /path/],
    ['https://app.example.com/a b', /printable/],
    ['https://app.example.com/é', /printable/],
    ['https://app.example.com/\n', /printable/],
    ['https://app.example.com:99999/cb', /absolute/],
    [`https://app.example.com/${'x'.repeat(2000)}`, /at most 2000/],
  ])('rejects %j', (uri, why) => {
    expect(redirectUriProblem(uri)).toMatch(why);
  });

  it('rejects non-strings', () => {
    expect(redirectUriProblem(42)).toMatch(/string/);
    expect(redirectUriProblem(null)).toMatch(/string/);
    expect(redirectUriProblem({ href: 'https://a' })).toMatch(/string/);
  });
});

describe('redirectUrisProblems', () => {
  it('accepts an empty list and up to 20 distinct URIs', () => {
    expect(redirectUrisProblems([])).toEqual([]);
    expect(redirectUrisProblems(Array.from({ length: 20 }, (_, i) => `https://a.example/${i}`))).toEqual([]);
  });

  it('names the index of each bad URI', () => {
    expect(redirectUrisProblems(['https://a.example/', 'http://b.example/', 'https://a.example/'])).toEqual([
      expect.stringMatching(/^redirect_uris\[1\] must use https/),
      'redirect_uris[2] is a duplicate',
    ]);
  });

  it('rejects a non-array and more than 20 URIs', () => {
    expect(redirectUrisProblems('https://a.example/')).toEqual([expect.stringMatching(/array/)]);
    expect(redirectUrisProblems(Array.from({ length: 21 }, (_, i) => `https://a.example/${i}`))).toEqual([
      expect.stringMatching(/at most 20/),
    ]);
  });
});

describe('scopeSyntaxProblems', () => {
  it.each(['', 'api:read', 'api:read api:write clients:read', 'a!#$%&()*+,-./:;<=>?@[]^_`{|}~'])(
    'accepts %j',
    (scope) => {
      expect(scopeSyntaxProblems(scope)).toEqual([]);
    },
  );

  it.each([
    [' api:read', /single spaces/],
    ['api:read ', /single spaces/],
    ['api:read  api:write', /single spaces/],
    ['api:read\tapi:write', /invalid characters/],
    ['api:"read"', /invalid characters/],
    ['api\\read', /invalid characters/],
    ['api:read api:read', /repeats: api:read/],
    ['a'.repeat(1001), /at most 1000/],
  ])('rejects %j', (scope, why) => {
    expect(scopeSyntaxProblems(scope)[0]).toMatch(why);
  });

  it('rejects non-strings', () => {
    expect(scopeSyntaxProblems(['api:read'])[0]).toMatch(/string/);
  });
});

describe('clientNameProblems and grantTypesProblems', () => {
  it('accepts a name of 1 to 200 characters, unicode included', () => {
    expect(clientNameProblems('A')).toEqual([]);
    expect(clientNameProblems('Zahlungsübersicht 📊')).toEqual([]);
    expect(clientNameProblems('n'.repeat(200))).toEqual([]);
  });

  it.each([[''], ['  '], ['n'.repeat(201)], ['tab\there'], [7], [null]])('rejects the name %j', (name) => {
    expect(clientNameProblems(name)).toHaveLength(1);
  });

  it('accepts distinct supported grant types', () => {
    expect(grantTypesProblems(['authorization_code', 'refresh_token', 'client_credentials'])).toEqual([]);
  });

  it.each([
    [[]],
    ['authorization_code'],
    [['password']],
    [['implicit']],
    [['refresh_token', 'refresh_token']],
    [[1]],
  ])('rejects the grant types %j', (value) => {
    expect(grantTypesProblems(value)).toHaveLength(1);
  });
});

describe('clientRuleViolations', () => {
  const web: ClientShape = {
    redirectUris: ['https://a.example/cb'],
    grantTypes: ['authorization_code', 'refresh_token'],
    tokenEndpointAuthMethod: 'client_secret_basic',
    scope: 'api:read',
  };
  const service: ClientShape = {
    redirectUris: [],
    grantTypes: ['client_credentials'],
    tokenEndpointAuthMethod: 'client_secret_post',
    scope: 'clients:read',
  };
  const admin: RuleContext = {
    configuredScopes: ['api:read', 'api:write'],
    grantableBuiltins: ['clients:read'],
  };
  const operator: RuleContext = { configuredScopes: ['api:read', 'api:write'], grantableBuiltins: 'all' };

  it('accepts a web client and a service client', () => {
    expect(clientRuleViolations(web, admin)).toEqual({});
    expect(clientRuleViolations(service, admin)).toEqual({});
    expect(clientRuleViolations({ ...web, tokenEndpointAuthMethod: 'none' }, admin)).toEqual({});
  });

  it('requires redirect_uris with authorization_code', () => {
    expect(Object.keys(clientRuleViolations({ ...web, redirectUris: [] }, admin))).toEqual(['redirect_uris']);
  });

  it('requires authorization_code with refresh_token', () => {
    expect(Object.keys(clientRuleViolations({ ...web, grantTypes: ['refresh_token'] }, admin))).toEqual([
      'grant_types',
    ]);
    expect(
      Object.keys(
        clientRuleViolations({ ...service, grantTypes: ['client_credentials', 'refresh_token'] }, admin),
      ),
    ).toEqual(['grant_types']);
  });

  it('refuses client_credentials to public clients', () => {
    const v = clientRuleViolations({ ...service, scope: 'api:read', tokenEndpointAuthMethod: 'none' }, admin);
    expect(Object.keys(v)).toEqual(['grant_types']);
  });

  it('refuses scopes that are neither configured nor built in', () => {
    expect(clientRuleViolations({ ...web, scope: 'api:read admin' }, admin).scope).toEqual([
      expect.stringMatching(/unknown scopes: admin/),
    ]);
  });

  it('keeps the built-in scopes for confidential client_credentials clients', () => {
    expect(Object.keys(clientRuleViolations({ ...web, scope: 'clients:read' }, admin))).toEqual(['scope']);
    expect(
      Object.keys(
        clientRuleViolations(
          {
            ...web,
            grantTypes: ['authorization_code'],
            tokenEndpointAuthMethod: 'none',
            scope: 'clients:read',
          },
          admin,
        ),
      ),
    ).toEqual(['scope']);
    expect(
      clientRuleViolations(
        { ...web, grantTypes: ['authorization_code', 'client_credentials'], scope: 'clients:read' },
        admin,
      ),
    ).toEqual({});
  });

  it('lets a caller give only the built-in scopes it holds; the operator may give any', () => {
    expect(clientRuleViolations({ ...service, scope: 'clients:write' }, admin).scope).toEqual([
      expect.stringMatching(/clients:write/),
    ]);
    expect(
      clientRuleViolations({ ...service, scope: 'clients:read clients:write audit:read' }, operator),
    ).toEqual({});
  });

  it('lets a change keep built-in scopes the client already had', () => {
    const ctx = { ...admin, previousScopes: ['audit:read'] };
    expect(clientRuleViolations({ ...service, scope: 'audit:read clients:read' }, ctx)).toEqual({});
    expect(Object.keys(clientRuleViolations({ ...service, scope: 'clients:write' }, ctx))).toEqual(['scope']);
  });
});

describe('generateClientId', () => {
  it('is random, at most 64 printable characters, never UUID-shaped', () => {
    const ids = Array.from({ length: 200 }, generateClientId);
    expect(new Set(ids).size).toBe(200);
    for (const id of ids) {
      expect(id).toMatch(/^lk_[A-Za-z0-9_-]{22}$/);
      expect(isUuidShaped(id)).toBe(false);
    }
    expect(isUuidShaped('0b6f7c7e-3e43-4d8f-9a3f-6b6a3f3f0a11')).toBe(true);
  });
});

import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { CliOperations } from '../../src/operations/cli-operations.service';
import { createTestApp, TestApp } from '../helpers/test-app';
import { authorizePath, CookieJar, createUser, csrfTokenOf, loginAndConsent } from '../factories/authorize';
import { pkcePair } from '../factories/pkce';
import { basicAuth, TOKEN_TEST_ENV } from '../factories/tokens';
import { rowsLeaking } from '../factories/audit';
import { PUBLIC_CLIENT, createClient } from '../factories/clients';

interface Finding {
  rule: string;
  severity: string;
  subject: { type: string; value: string };
  count: number;
  sample_event_ids: string[];
  description: string;
}

/**
 * Every rule of the security report, provoked through the real endpoints (GET /oauth/authorize,
 * POST /oauth/token, POST /login) as an attacker would, then read back by an auditor who got an
 * `audit:read` token the documented way (CLI client:create, client_credentials at /oauth/token).
 * TRUST_PROXY=1 (one proxy: the socket peer) so that each attacker gets its own address through X-Forwarded-For.
 */
describe('security report rules over real HTTP', () => {
  let t: TestApp;
  let auditorToken: string;
  let report: { findings: Finding[]; total_requests: number; failures: number };
  /** every secret this test sends: none may appear in any stored audit row */
  const secrets: string[] = [];
  const ip = {
    enumeration: '198.51.100.21',
    probing: '198.51.100.22',
    downgrade: '198.51.100.23',
    mismatch: '198.51.100.24',
    guessing: '198.51.100.25',
    spraying: '198.51.100.26',
    burst: '198.51.100.27',
    bruteforce: '198.51.100.28',
  };

  const from = (address: string) => ({ 'X-Forwarded-For': address });
  const token = (form: Record<string, string>, address: string, auth?: string) => {
    let req = request(t.url).post('/oauth/token').type('form').set(from(address));
    if (auth) req = req.set('Authorization', auth);
    return req.send(form);
  };
  const authorize = (params: Record<string, string | null>, address: string) =>
    request(t.url).get(authorizePath(params)).set(from(address)).redirects(0);
  /** One failed POST /login (fresh browser: GET /login for the CSRF token first). */
  const failedLogin = async (username: string, password: string, address: string) => {
    const jar = new CookieJar();
    const page = await request(t.url).get('/login').set(from(address));
    jar.store(page);
    const res = await request(t.url)
      .post('/login')
      .set(from(address))
      .set('Cookie', jar.header())
      .type('form')
      .send({ _csrf: csrfTokenOf(page.text), username, password })
      .redirects(0);
    secrets.push(password);
    return res;
  };
  const find = (rule: string, type: string, value: string) =>
    report.findings.find((f) => f.rule === rule && f.subject.type === type && f.subject.value === value);

  beforeAll(async () => {
    t = await createTestApp({ ...TOKEN_TEST_ENV, TRUST_PROXY: '1' });
    const spa = await createClient(t, { ...PUBLIC_CLIENT, clientId: `spa-${randomUUID().slice(0, 6)}` });

    // client_enumeration: one IP tries 5 client ids that do not exist (400 page, never a redirect)
    for (let i = 0; i < 5; i++) {
      const res = await authorize(
        { client_id: `made-up-${i}`, redirect_uri: spa.redirectUri, code_challenge: pkcePair().challenge },
        ip.enumeration,
      );
      expect(res.status).toBe(400);
    }

    // redirect_uri_probing: 3 redirect URIs that are not registered
    for (const uri of [
      'https://evil.example/cb',
      'http://127.0.0.1:4999/callback/../x',
      'http://127.0.0.1:4999/callbac',
    ]) {
      const res = await authorize(
        { client_id: spa.clientId, redirect_uri: uri, code_challenge: pkcePair().challenge },
        ip.probing,
      );
      expect(res.status).toBe(400);
    }

    // pkce_downgrade_attempt: no challenge, then plain
    const noChallenge = await authorize(
      { client_id: spa.clientId, redirect_uri: spa.redirectUri },
      ip.downgrade,
    );
    expect(noChallenge.status).toBe(302);
    expect(noChallenge.headers.location).toContain('error=invalid_request');
    const plain = await authorize(
      {
        client_id: spa.clientId,
        redirect_uri: spa.redirectUri,
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'plain',
      },
      ip.downgrade,
    );
    expect(plain.headers.location).toContain('error=invalid_request');

    // pkce_verifier_mismatch: an intercepted code presented 3 times without its verifier
    const user = await createUser(t, { password: `pw-${randomBytes(12).toString('base64url')}` });
    secrets.push(user.password);
    const intercepted = pkcePair();
    const stolen = await loginAndConsent(t, {
      clientId: spa.clientId,
      redirectUri: spa.redirectUri,
      challenge: intercepted.challenge,
      user,
    });
    secrets.push(stolen.code, intercepted.verifier);
    for (let i = 0; i < 3; i++) {
      const wrong = pkcePair().verifier;
      secrets.push(wrong);
      const res = await token(
        {
          grant_type: 'authorization_code',
          code: stolen.code,
          redirect_uri: spa.redirectUri,
          code_verifier: wrong,
          client_id: spa.clientId,
        },
        ip.mismatch,
      );
      expect(res.body.error).toBe('invalid_grant');
    }

    // code_replay: a code exchanged, then presented again with its verifier (the grant is revoked)
    const pair = pkcePair();
    const issued = await loginAndConsent(t, {
      clientId: spa.clientId,
      redirectUri: spa.redirectUri,
      challenge: pair.challenge,
      user,
      jar: stolen.cookies,
    });
    secrets.push(issued.code, pair.verifier);
    const exchange = {
      grant_type: 'authorization_code',
      code: issued.code,
      redirect_uri: spa.redirectUri,
      code_verifier: pair.verifier,
      client_id: spa.clientId,
    };
    const first = await token(exchange, '192.0.2.200');
    expect(first.status).toBe(200);
    secrets.push(first.body.access_token, first.body.refresh_token);
    const replay = await token(exchange, '192.0.2.200');
    expect(replay.body.error).toBe('invalid_grant');

    // refresh_token_reuse: rotate once, then present the rotated token again
    const pair2 = pkcePair();
    const issued2 = await loginAndConsent(t, {
      clientId: spa.clientId,
      redirectUri: spa.redirectUri,
      challenge: pair2.challenge,
      user,
      jar: stolen.cookies,
    });
    secrets.push(issued2.code, pair2.verifier);
    const tokens = await token(
      {
        grant_type: 'authorization_code',
        code: issued2.code,
        redirect_uri: spa.redirectUri,
        code_verifier: pair2.verifier,
        client_id: spa.clientId,
      },
      '192.0.2.201',
    );
    expect(tokens.status).toBe(200);
    const rotated = await token(
      { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token, client_id: spa.clientId },
      '192.0.2.201',
    );
    expect(rotated.status).toBe(200);
    secrets.push(
      tokens.body.access_token,
      tokens.body.refresh_token,
      rotated.body.access_token,
      rotated.body.refresh_token,
    );
    const reused = await token(
      { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token, client_id: spa.clientId },
      '192.0.2.202',
    );
    expect(reused.body.error).toBe('invalid_grant');

    // challenge_reuse: a client that sends the same code_challenge every time
    const constant = pkcePair();
    for (let i = 0; i < 2; i++) {
      const r = await loginAndConsent(t, {
        clientId: spa.clientId,
        redirectUri: spa.redirectUri,
        challenge: constant.challenge,
        user,
        jar: stolen.cookies,
      });
      secrets.push(r.code);
    }

    // client_secret_guessing: 5 wrong secrets for one confidential client
    const backend = await createClient(t, {
      grantTypes: ['client_credentials'],
      scope: 'api:read',
      redirectUris: [],
    });
    secrets.push(backend.clientSecret!);
    for (let i = 0; i < 5; i++) {
      const guess = randomBytes(32).toString('base64url');
      secrets.push(guess);
      const res = await token(
        { grant_type: 'client_credentials' },
        ip.guessing,
        basicAuth(backend.clientId, guess),
      );
      expect(res.status).toBe(401);
    }

    // login_bruteforce: 5 wrong passwords for one account; 10 usernames sprayed from one IP
    const victim = await createUser(t, { password: `pw-${randomBytes(12).toString('base64url')}` });
    secrets.push(victim.password);
    for (let i = 0; i < 5; i++)
      await failedLogin(victim.username, `guess-${randomBytes(9).toString('base64url')}`, ip.bruteforce);
    for (let i = 0; i < 10; i++)
      await failedLogin(
        `nobody-${i}-${randomUUID().slice(0, 4)}`,
        `spray-${randomBytes(9).toString('base64url')}`,
        ip.spraying,
      );
    // a password typed into the username field is never stored (docs/audit.md: a keyed hash instead)
    const typedInWrongField = `Secret-${randomBytes(12).toString('base64url')}`;
    secrets.push(typedInWrongField);
    await failedLogin(typedInWrongField, `x-${randomBytes(9).toString('base64url')}`, ip.spraying);

    // ip_failure_burst: 10 failed token requests from one IP within seconds
    for (let i = 0; i < 10; i++) {
      const res = await token({ grant_type: 'password', username: 'u', password: 'p' }, ip.burst);
      expect(res.status).toBeGreaterThanOrEqual(400);
    }

    // the auditor, as a new user would: CLI client:create, then client_credentials at the token endpoint
    const created = await t.get(CliOperations).execute('client:create', {
      name: 'Security team',
      grantTypes: ['client_credentials'],
      scope: 'audit:read',
    });
    const auditorSecret = created.client_secret as string;
    secrets.push(auditorSecret);
    const issuedToAuditor = await request(t.url)
      .post('/oauth/token')
      .set('Authorization', basicAuth(created.client_id as string, auditorSecret))
      .type('form')
      .send({ grant_type: 'client_credentials', scope: 'audit:read' })
      .expect(200);
    auditorToken = issuedToAuditor.body.access_token;
    secrets.push(auditorToken);

    report = (
      await request(t.url)
        .get('/audit/reports/security')
        .set('Authorization', `Bearer ${auditorToken}`)
        .expect(200)
    ).body;
  });
  afterAll(() => t?.close());

  it.each([
    ['client_enumeration', ip.enumeration, 5],
    ['redirect_uri_probing', ip.probing, 3],
    ['pkce_verifier_mismatch', ip.mismatch, 3],
    ['login_bruteforce', ip.spraying, 10],
    ['ip_failure_burst', ip.burst, 10],
  ])('finds %s from IP %s', (rule, address, count) => {
    const f = find(rule, 'ip', address);
    expect(f).toBeDefined();
    expect(f!.count).toBeGreaterThanOrEqual(count);
    expect(f!.sample_event_ids.length).toBeGreaterThan(0);
  });

  it('finds the per-client rules: probing, downgrade, verifier mismatch, code replay, refresh reuse, challenge reuse', () => {
    const rules = new Set(report.findings.filter((f) => f.subject.type === 'client_id').map((f) => f.rule));
    for (const rule of [
      'redirect_uri_probing',
      'pkce_downgrade_attempt',
      'pkce_verifier_mismatch',
      'code_replay',
      'refresh_token_reuse',
      'challenge_reuse',
      'client_secret_guessing',
    ])
      expect(rules).toContain(rule);
    expect(report.findings.find((f) => f.rule === 'code_replay')!.severity).toBe('critical');
    expect(report.findings.find((f) => f.rule === 'refresh_token_reuse')!.severity).toBe('critical');
  });

  it('finds the brute force against one account', () => {
    const f = report.findings.find((x) => x.rule === 'login_bruteforce' && x.subject.type === 'username');
    expect(f).toBeDefined();
    expect(f!.count).toBeGreaterThanOrEqual(5);
  });

  it('finds the failure rate spike (nothing failed in the preceding day)', () => {
    expect(report.findings.find((f) => f.rule === 'failure_rate_spike')).toBeDefined();
    expect(report.failures).toBeGreaterThanOrEqual(40);
  });

  it('gives the auditor the events as JSON and CSV, and the report as a page', async () => {
    const json = await request(t.url)
      .get('/audit/events')
      .query({ type: 'token.request_failed', limit: 5 })
      .set('Authorization', `Bearer ${auditorToken}`)
      .expect(200);
    expect(json.body.items).toHaveLength(5);
    const csv = await request(t.url)
      .get('/audit/events')
      .set('Authorization', `Bearer ${auditorToken}`)
      .set('Accept', 'text/csv')
      .expect(200);
    expect(csv.text.split('\r\n')[0]).toMatch(/^id,occurred_at,type,outcome/);
    const html = await request(t.url)
      .get('/audit/reports/security')
      .set('Authorization', `Bearer ${auditorToken}`)
      .set('Accept', 'text/html')
      .expect(200);
    expect(html.text).toContain('<svg');
    expect(html.text).toContain('code_replay');
  });

  it('never stores a code, verifier, token, secret or password in any audit row', async () => {
    expect(secrets.length).toBeGreaterThan(30);
    expect(await rowsLeaking(t, secrets)).toEqual([]);
  });
});

import { createServer, type Server } from 'node:http';
import { decodeJwt } from 'jose';
import request from 'supertest';
import { auditorToken } from '../../../test/factories/audit';
import { exchangeCode, issueCode, postForm, TOKEN_TEST_ENV } from '../../../test/factories/tokens';
import { createClient } from '../../../test/factories/clients';
import { createUser } from '../../../test/factories/users';
import { createTestApp, type TestApp } from '../../../test/helpers/test-app';
import { teamExtensions } from '../src/app.module';
import { SiemAuditSink } from '../src/siem-audit-sink';
import type { AuditSinkEvent } from '../../../src/extensions';

/** A stand-in SIEM: an HTTP endpoint collecting the JSON lines it is sent. */
async function fakeSiem(): Promise<{ url: string; events: AuditSinkEvent[]; server: Server }> {
  const events: AuditSinkEvent[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      for (const line of body.split('\n').filter(Boolean)) events.push(JSON.parse(line) as AuditSinkEvent);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/ingest`, events, server };
}

async function until<T>(what: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = what();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * docs/extending.md's worked example, booted as a team would run it: Latchkey's AppModule unchanged, plus the
 * team's three modules, over real HTTP on a fresh PGlite.
 */
describe('examples/extensions: a report rule, token claims and a SIEM sink of a team', () => {
  let t: TestApp;
  let siem: Awaited<ReturnType<typeof fakeSiem>>;
  beforeAll(async () => {
    siem = await fakeSiem();
    t = await createTestApp(TOKEN_TEST_ENV, {
      imports: teamExtensions({
        directory: { ada: { department: 'research', employee_number: 'E-1815' } },
        siem: { url: siem.url, flushIntervalMs: 20 },
      }),
    });
  });
  afterAll(async () => {
    await t.close();
    siem.server.close();
  });

  it('the custom rule finding appears in /audit/reports/security', async () => {
    const client = await createClient(t, { grantTypes: ['client_credentials'], scope: 'api:read' });
    for (let i = 0; i < 3; i++)
      await postForm(
        t,
        '/oauth/token',
        { grant_type: 'client_credentials', scope: 'api:write' },
        client,
      ).expect(400);
    const { token } = await auditorToken(t);
    const report = await request(t.url)
      .get('/audit/reports/security')
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    const finding = report.body.findings.find((f: { rule: string }) => f.rule === 'invalid_scope_requests');
    expect(finding).toMatchObject({
      severity: 'low',
      subject: { type: 'client_id', value: client.clientId },
      count: 3,
    });
    expect(report.body.suspicious_patterns.join('\n')).toContain('scopes it is not registered for');
    // and on the page for people, with its threshold
    const page = await request(t.url)
      .get('/audit/reports/security')
      .set('Authorization', `Bearer ${token}`)
      .set('Accept', 'text/html')
      .expect(200);
    expect(page.text).toContain('invalid_scope_requests');
  });

  it('the custom claims are in the access token and the id_token, for the users the directory knows', async () => {
    const ada = await createUser(t, { username: 'ada' });
    const client = await createClient(t, { authMethod: 'none', scope: 'openid api:read' });
    const code = await issueCode(t, { client, userId: ada.id, scope: 'openid api:read' });
    const res = await exchangeCode(t, client, code).expect(200);
    const access = decodeJwt(res.body.access_token);
    const id = decodeJwt(res.body.id_token);
    for (const claims of [access, id]) {
      expect(claims).toMatchObject({ department: 'research', employee_number: 'E-1815', sub: ada.id });
      expect(claims.iss).toBe(t.url);
    }
    // a user the directory does not know, and a machine token: no claims added
    const other = await createUser(t);
    const otherCode = await issueCode(t, { client, userId: other.id, scope: 'openid api:read' });
    const plain = decodeJwt((await exchangeCode(t, client, otherCode).expect(200)).body.access_token);
    expect(plain.department).toBeUndefined();
    const machine = await createClient(t, { grantTypes: ['client_credentials'], scope: 'api:read' });
    const cc = await postForm(t, '/oauth/token', { grant_type: 'client_credentials' }, machine).expect(200);
    expect(decodeJwt(cc.body.access_token).department).toBeUndefined();
  });

  it('the SIEM sink receives the audit events as JSON lines, without secrets', async () => {
    const client = await createClient(t, { grantTypes: ['client_credentials'], scope: 'api:read' });
    const res = await postForm(t, '/oauth/token', { grant_type: 'client_credentials' }, client).expect(200);
    const issued = await until(() =>
      siem.events.find((e) => e.type === 'token.issued' && e.client_id === client.clientId),
    );
    expect(issued).toMatchObject({
      outcome: 'success',
      details: expect.objectContaining({ grant_type: 'client_credentials' }),
    });
    expect(issued.request_id).toEqual(expect.any(String));
    expect(new Date(issued.occurred_at).getTime()).toBeGreaterThan(0);
    const everything = JSON.stringify(siem.events);
    expect(siem.events.every((e) => typeof e.type === 'string' && 'details' in e)).toBe(true);
    expect(everything).not.toContain(res.body.access_token);
    expect(everything).not.toContain(client.clientSecret!);
  });
});

describe('SiemAuditSink without a URL', () => {
  it('writes one JSON object per line to its stream (stdout by default)', () => {
    const lines: string[] = [];
    const sink = new SiemAuditSink({ stream: { write: (l: string) => lines.push(l) } as never });
    sink.receive({
      type: 'login.failed',
      outcome: 'failure',
      reason: 'invalid_credentials',
    } as AuditSinkEvent);
    expect(lines).toEqual(['{"type":"login.failed","outcome":"failure","reason":"invalid_credentials"}\n']);
  });
});

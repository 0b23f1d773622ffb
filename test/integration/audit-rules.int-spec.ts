import { randomUUID } from 'node:crypto';
import type { AuditRow } from '../../src/audit/audit-row';
import { challengeReuseRule } from '../../src/audit/rules/challenge-reuse.rule';
import { clientEnumerationRule } from '../../src/audit/rules/client-enumeration.rule';
import { clientSecretGuessingRule } from '../../src/audit/rules/client-secret-guessing.rule';
import { codeReplayRule } from '../../src/audit/rules/code-replay.rule';
import { dpopKeyMismatchRule } from '../../src/audit/rules/dpop-key-mismatch.rule';
import { dpopProofReplayRule } from '../../src/audit/rules/dpop-proof-replay.rule';
import { failureRateSpikeRule } from '../../src/audit/rules/failure-rate-spike.rule';
import { ipFailureBurstRule } from '../../src/audit/rules/ip-failure-burst.rule';
import { loginBruteforceRule } from '../../src/audit/rules/login-bruteforce.rule';
import { promptNoneProbingRule } from '../../src/audit/rules/prompt-none-probing.rule';
import { pkceDowngradeAttemptRule } from '../../src/audit/rules/pkce-downgrade-attempt.rule';
import { pkceVerifierMismatchRule } from '../../src/audit/rules/pkce-verifier-mismatch.rule';
import { redirectUriProbingRule } from '../../src/audit/rules/redirect-uri-probing.rule';
import { refreshTokenReuseRule } from '../../src/audit/rules/refresh-token-reuse.rule';
import type { ReportRule, ReportWindow } from '../../src/audit/rules/report-rule';
import { userAdminChangesRule } from '../../src/audit/rules/user-admin-changes.rule';
import { SecurityReportService } from '../../src/audit/security-report.service';
import { writeRows } from '../factories/audit';
import { createTestApp, TestApp } from '../helpers/test-app';

type Row = Partial<AuditRow> & Pick<AuditRow, 'type'>;
const MIN = 60_000;
const HOUR = 60 * MIN;

/**
 * Each rule's SQL on the real database (PGlite, or PostgreSQL with DATABASE_URL). Every test writes its
 * events into its own past hour (through the group-commit writer), so the tests do not see each other.
 */
describe('security report rules (SQL)', () => {
  let t: TestApp;
  let reports: SecurityReportService;
  let slot = 0;

  beforeAll(async () => {
    t = await createTestApp();
    reports = t.get(SecurityReportService);
  });
  afterAll(() => t.close());

  /** A fresh one-hour window, 10 … days back, with its own events. */
  async function windowWith(rows: (w: ReportWindow) => Row[]): Promise<ReportWindow> {
    slot++;
    const from = new Date(Math.floor(Date.now() / HOUR) * HOUR - (10 * 24 + slot * 3) * HOUR);
    const w = { from, to: new Date(from.getTime() + HOUR) };
    await writeRows(t, rows(w));
    return w;
  }
  const at = (w: ReportWindow, minutes: number) => new Date(w.from.getTime() + minutes * MIN);
  const run = (w: ReportWindow, rule: ReportRule) => reports.generate(w, [rule]);
  const times = (n: number, row: (i: number) => Row): Row[] => Array.from({ length: n }, (_, i) => row(i));

  describe('ip_failure_burst', () => {
    it('finds 10 failures from one IP within 5 minutes, whatever their type', async () => {
      const w = await windowWith((w) =>
        times(10, (i) => ({
          occurredAt: at(w, 20 + i * 0.4),
          type: i % 2 ? 'login.failed' : 'token.request_failed',
          outcome: 'failure',
          ip: '203.0.113.50',
        })),
      );
      const report = await run(w, ipFailureBurstRule);
      expect(report.findings).toHaveLength(1);
      expect(report.findings[0]).toMatchObject({
        rule: 'ip_failure_burst',
        severity: 'medium',
        subject: { type: 'ip', value: '203.0.113.50' },
        count: 10,
        first_seen: at(w, 20).toISOString(),
      });
      expect(report.findings[0].sample_event_ids).toHaveLength(5);
      expect(report.findings[0].description).toContain('up to 10 within 5 minutes');
    });

    it('does not fire for 10 failures spread over more than 5 minutes, nor for successes', async () => {
      const w = await windowWith((w) => [
        // one failure every 6 minutes: 10 in the hour, never 10 within 5 minutes
        ...times(10, (i) => ({
          occurredAt: at(w, i * 6),
          type: 'login.failed' as const,
          outcome: 'failure' as const,
          ip: '203.0.113.51',
        })),
        ...times(30, (i) => ({
          occurredAt: at(w, 1 + i * 0.1),
          type: 'token.issued' as const,
          outcome: 'success' as const,
          ip: '203.0.113.52',
        })),
      ]);
      expect((await run(w, ipFailureBurstRule)).findings).toEqual([]);
    });

    it('uses a sliding window: a burst across a 5-minute boundary is found', async () => {
      // 6 failures at minute 4.00–4.95 and 4 at 5.14–5.71: no fixed 5-minute bucket holds 10
      const w = await windowWith((w) =>
        times(10, (i) => ({
          occurredAt: at(w, 4 + i * 0.19),
          type: 'client.authentication_failed',
          outcome: 'failure',
          ip: '2001:db8::50',
        })),
      );
      const [finding] = (await run(w, ipFailureBurstRule)).findings;
      expect(finding.subject).toEqual({ type: 'ip', value: '2001:db8::50' });
    });
  });

  describe('pkce_verifier_mismatch', () => {
    const mismatch = (w: ReportWindow, minute: number, clientId: string, ip: string): Row => ({
      occurredAt: at(w, minute),
      type: 'token.request_failed',
      outcome: 'failure',
      errorCode: 'invalid_grant',
      reason: 'pkce_verifier_mismatch',
      clientId,
      ip,
    });

    it('finds 3 mismatches for one client (from several IPs) and 3 from one IP (several clients)', async () => {
      const w = await windowWith((w) => [
        mismatch(w, 1, 'spa', '198.51.100.1'),
        mismatch(w, 2, 'spa', '198.51.100.2'),
        mismatch(w, 3, 'spa', '198.51.100.3'),
        mismatch(w, 4, 'a', '198.51.100.9'),
        mismatch(w, 5, 'b', '198.51.100.9'),
        mismatch(w, 6, 'c', '198.51.100.9'),
      ]);
      const subjects = (await run(w, pkceVerifierMismatchRule)).findings.map((f) => [
        f.subject.type,
        f.subject.value,
        f.count,
      ]);
      expect(subjects).toEqual(
        expect.arrayContaining([
          ['client_id', 'spa', 3],
          ['ip', '198.51.100.9', 3],
        ]),
      );
      expect(subjects).toHaveLength(2);
    });

    it('ignores 2 mismatches and other token failures', async () => {
      const w = await windowWith((w) => [
        mismatch(w, 1, 'spa2', '198.51.100.20'),
        mismatch(w, 2, 'spa2', '198.51.100.20'),
        { ...mismatch(w, 3, 'spa2', '198.51.100.20'), reason: 'pkce_verifier_malformed' },
      ]);
      expect((await run(w, pkceVerifierMismatchRule)).findings).toEqual([]);
    });
  });

  describe('code_replay and refresh_token_reuse', () => {
    it('reports any replayed code as critical, per client', async () => {
      const w = await windowWith((w) => [
        {
          occurredAt: at(w, 5),
          type: 'token.request_failed',
          outcome: 'failure',
          reason: 'code_replayed',
          clientId: 'web',
          ip: '192.0.2.1',
        },
        {
          occurredAt: at(w, 5),
          type: 'grant.revoked',
          outcome: 'success',
          clientId: 'web',
          details: { cause: 'code_replayed' },
        },
      ]);
      const report = await run(w, codeReplayRule);
      expect(report.findings).toHaveLength(1);
      expect(report.findings[0]).toMatchObject({
        rule: 'code_replay',
        severity: 'critical',
        subject: { type: 'client_id', value: 'web' },
        count: 1,
      });
    });

    it('reports any reused refresh token as critical, per client', async () => {
      const w = await windowWith((w) =>
        times(2, (i) => ({
          occurredAt: at(w, 10 + i),
          type: 'token.request_failed',
          outcome: 'failure',
          reason: 'refresh_reused',
          clientId: 'mobile',
        })),
      );
      const [finding] = (await run(w, refreshTokenReuseRule)).findings;
      expect(finding).toMatchObject({
        severity: 'critical',
        subject: { type: 'client_id', value: 'mobile' },
        count: 2,
      });
      expect((await run(w, codeReplayRule)).findings).toEqual([]);
    });
  });

  describe('dpop_proof_replay and dpop_key_mismatch', () => {
    it('reports any replayed DPoP proof, wherever it was presented, per client', async () => {
      const w = await windowWith((w) => [
        {
          occurredAt: at(w, 5),
          type: 'token.request_failed',
          outcome: 'failure',
          reason: 'dpop_proof_replayed',
          clientId: 'spa',
        },
        {
          occurredAt: at(w, 6),
          type: 'api.access_denied',
          outcome: 'failure',
          reason: 'dpop_proof_replayed',
          clientId: 'spa',
        },
        {
          occurredAt: at(w, 7),
          type: 'token.request_failed',
          outcome: 'failure',
          reason: 'dpop_proof_htu_mismatch',
          clientId: 'other',
        },
      ]);
      const report = await run(w, dpopProofReplayRule);
      expect(report.findings).toHaveLength(1);
      expect(report.findings[0]).toMatchObject({
        rule: 'dpop_proof_replay',
        severity: 'high',
        subject: { type: 'client_id', value: 'spa' },
        count: 2,
      });
      expect((await run(w, dpopKeyMismatchRule)).findings).toEqual([]);
    });

    it('reports any bound refresh token or code presented with another key as critical', async () => {
      const w = await windowWith((w) => [
        {
          occurredAt: at(w, 5),
          type: 'token.request_failed',
          outcome: 'failure',
          reason: 'dpop_key_mismatch',
          clientId: 'mobile',
          details: { bound: 'refresh_token' },
        },
      ]);
      const [finding] = (await run(w, dpopKeyMismatchRule)).findings;
      expect(finding).toMatchObject({
        rule: 'dpop_key_mismatch',
        severity: 'critical',
        subject: { type: 'client_id', value: 'mobile' },
        count: 1,
      });
    });
  });

  describe('redirect_uri_probing', () => {
    it('counts authorization and token redirect URI mismatches together, per client and per IP', async () => {
      const w = await windowWith((w) => [
        {
          occurredAt: at(w, 1),
          type: 'authorization.rejected',
          outcome: 'failure',
          reason: 'redirect_uri_mismatch',
          clientId: 'shop',
          ip: '192.0.2.7',
        },
        {
          occurredAt: at(w, 2),
          type: 'authorization.rejected',
          outcome: 'failure',
          reason: 'redirect_uri_mismatch',
          clientId: 'shop',
          ip: '192.0.2.7',
        },
        {
          occurredAt: at(w, 3),
          type: 'token.request_failed',
          outcome: 'failure',
          reason: 'code_redirect_uri_mismatch',
          clientId: 'shop',
          ip: '192.0.2.7',
        },
        {
          occurredAt: at(w, 4),
          type: 'authorization.rejected',
          outcome: 'failure',
          reason: 'unknown_client',
          clientId: 'shop',
          ip: '192.0.2.7',
        },
      ]);
      const findings = (await run(w, redirectUriProbingRule)).findings;
      expect(findings.map((f) => [f.subject.type, f.subject.value, f.count]).sort()).toEqual([
        ['client_id', 'shop', 3],
        ['ip', '192.0.2.7', 3],
      ]);
    });
  });

  describe('client_enumeration', () => {
    it('finds one IP presenting 5 distinct unknown client_ids (authorize and client authentication)', async () => {
      const w = await windowWith((w) => [
        ...times(5, (i) => ({
          occurredAt: at(w, i),
          type: (i % 2 ? 'authorization.rejected' : 'client.authentication_failed') as Row['type'],
          outcome: 'failure' as const,
          reason: 'unknown_client',
          clientId: `guess-${i}`,
          ip: '198.51.100.77',
        })),
        // the same unknown id again does not count twice
        {
          occurredAt: at(w, 9),
          type: 'client.authentication_failed',
          outcome: 'failure',
          reason: 'unknown_client',
          clientId: 'guess-0',
          ip: '198.51.100.77',
        },
        // 4 distinct from another IP: below the threshold
        ...times(4, (i) => ({
          occurredAt: at(w, i),
          type: 'authorization.rejected' as const,
          outcome: 'failure' as const,
          reason: 'unknown_client',
          clientId: `other-${i}`,
          ip: '198.51.100.78',
        })),
      ]);
      const findings = (await run(w, clientEnumerationRule)).findings;
      expect(findings).toHaveLength(1);
      expect(findings[0]).toMatchObject({ subject: { type: 'ip', value: '198.51.100.77' }, count: 5 });
      expect(findings[0].description).toContain('5 unknown client_ids tried in 6 requests');
    });
  });

  describe('pkce_downgrade_attempt', () => {
    it.each([
      'pkce_missing_challenge',
      'pkce_method_missing',
      'pkce_plain_rejected',
      'pkce_method_unsupported',
    ])('fires on a single %s', async (reason) => {
      const w = await windowWith((w) => [
        {
          occurredAt: at(w, 1),
          type: 'authorization.rejected',
          outcome: 'failure',
          errorCode: 'invalid_request',
          reason,
          clientId: 'legacy',
        },
      ]);
      const [finding] = (await run(w, pkceDowngradeAttemptRule)).findings;
      expect(finding).toMatchObject({ subject: { type: 'client_id', value: 'legacy' }, count: 1 });
    });

    it('does not fire on a malformed challenge (not a downgrade)', async () => {
      const w = await windowWith((w) => [
        {
          occurredAt: at(w, 1),
          type: 'authorization.rejected',
          outcome: 'failure',
          reason: 'pkce_malformed_challenge',
          clientId: 'legacy',
        },
      ]);
      expect((await run(w, pkceDowngradeAttemptRule)).findings).toEqual([]);
    });
  });

  describe('prompt_none_probing', () => {
    it('finds 20 login_required answers for one client from one IP, not spread over IPs or clients', async () => {
      const probe = (i: number, clientId: string, ip: string): Row => ({
        occurredAt: at(w0, i),
        type: 'authorization.rejected',
        outcome: 'failure',
        reason: 'login_required',
        errorCode: 'login_required',
        clientId,
        ip,
      });
      let w0: ReportWindow;
      const w = await windowWith((w) => {
        w0 = w;
        return [
          ...times(20, (i) => probe(i, 'tracker', '198.51.100.7')),
          ...times(19, (i) => probe(i, 'tracker', '198.51.100.8')),
          ...times(19, (i) => probe(i, 'other', '198.51.100.7')),
          ...times(5, (i) => ({ ...probe(i, 'tracker', '198.51.100.7'), reason: 'consent_required' })),
        ];
      });
      const findings = (await run(w, promptNoneProbingRule)).findings;
      expect(findings).toHaveLength(1);
      expect(findings[0]).toMatchObject({
        rule: 'prompt_none_probing',
        severity: 'medium',
        subject: { type: 'client_id', value: 'tracker' },
        count: 20,
      });
      expect(findings[0].description).toContain('198.51.100.7');
    });
  });

  describe('user_admin_changes', () => {
    it('finds 10 disables or password resets by one admin client, not profile edits', async () => {
      const change = (i: number, clientId: string, cause?: string): Row => ({
        occurredAt: at(w0, i),
        type: 'user.updated',
        outcome: 'success',
        clientId,
        subject: `user-${i}`,
        details: cause ? { actor: clientId, cause } : { actor: clientId, fields: ['name'] },
      });
      let w0: ReportWindow;
      const w = await windowWith((w) => {
        w0 = w;
        return [
          ...times(10, (i) => change(i, 'admin-a', i % 2 ? 'user_disabled' : 'password_changed')),
          ...times(9, (i) => change(i, 'admin-b', 'user_disabled')),
          ...times(15, (i) => change(i, 'admin-c')),
        ];
      });
      const findings = (await run(w, userAdminChangesRule)).findings;
      expect(findings).toHaveLength(1);
      expect(findings[0]).toMatchObject({ subject: { type: 'client_id', value: 'admin-a' }, count: 10 });
    });
  });

  describe('login_bruteforce', () => {
    it('finds 5 failed logins for one username', async () => {
      const w = await windowWith((w) =>
        times(5, (i) => ({
          occurredAt: at(w, i),
          type: 'login.failed',
          outcome: 'failure',
          reason: i === 4 ? 'locked_out' : 'invalid_credentials',
          subject: 'user-alice',
          ip: `192.0.2.${100 + i}`,
        })),
      );
      const findings = (await run(w, loginBruteforceRule)).findings;
      expect(findings).toHaveLength(1);
      expect(findings[0]).toMatchObject({
        severity: 'high',
        subject: { type: 'username', value: 'user-alice' },
        count: 5,
      });
    });

    it('finds 10 distinct usernames failing from one IP (spraying), not CSRF failures', async () => {
      const w = await windowWith((w) => [
        ...times(10, (i) => ({
          occurredAt: at(w, i),
          type: 'login.failed' as const,
          outcome: 'failure' as const,
          reason: 'invalid_credentials',
          subject: `victim-${i}`,
          ip: '203.0.113.200',
        })),
        ...times(12, (i) => ({
          occurredAt: at(w, i),
          type: 'login.failed' as const,
          outcome: 'failure' as const,
          reason: 'csrf_failed',
          subject: `csrf-${i}`,
          ip: '203.0.113.201',
        })),
      ]);
      const findings = (await run(w, loginBruteforceRule)).findings;
      expect(findings).toHaveLength(1);
      expect(findings[0]).toMatchObject({ subject: { type: 'ip', value: '203.0.113.200' }, count: 10 });
      expect(findings[0].description).toContain('10 distinct usernames');
    });
  });

  describe('client_secret_guessing', () => {
    it('finds 5 wrong secrets for one client_id, not 4', async () => {
      const bad = (w: ReportWindow, i: number, clientId: string): Row => ({
        occurredAt: at(w, i),
        type: 'client.authentication_failed',
        outcome: 'failure',
        errorCode: 'invalid_client',
        reason: 'bad_secret',
        clientId,
        ip: `198.51.100.${i + 1}`,
      });
      const w = await windowWith((w) => [
        ...times(5, (i) => bad(w, i, 'backend')),
        ...times(4, (i) => bad(w, i, 'almost')),
      ]);
      const findings = (await run(w, clientSecretGuessingRule)).findings;
      expect(findings.map((f) => [f.subject.value, f.count, f.severity])).toEqual([['backend', 5, 'high']]);
    });
  });

  describe('challenge_reuse', () => {
    it('finds the same challenge hash in two issued codes, and not distinct ones', async () => {
      const issued = (w: ReportWindow, i: number, hash: string, clientId = 'spa'): Row => ({
        occurredAt: at(w, i),
        type: 'authorization_code.issued',
        outcome: 'success',
        clientId,
        subject: randomUUID(),
        details: { scope: 'api:read', challenge_sha256: hash },
      });
      const same = 'a'.repeat(64);
      const w = await windowWith((w) => [
        issued(w, 1, same),
        issued(w, 2, same, 'other-spa'),
        issued(w, 3, 'b'.repeat(64)),
        issued(w, 4, 'c'.repeat(64)),
      ]);
      const findings = (await run(w, challengeReuseRule)).findings;
      expect(findings).toHaveLength(1);
      expect(findings[0]).toMatchObject({
        rule: 'challenge_reuse',
        count: 2,
        subject: { type: 'client_id', value: 'other-spa' },
      });
      expect(findings[0].description).toContain('aaaaaaaaaaaa…');
      expect(findings[0].description).toContain('1 other client');
    });
  });

  describe('failure_rate_spike', () => {
    /** Requests of one window: `failures` failed, the rest succeeded. */
    const traffic = (w: ReportWindow, requests: number, failures: number): Row[] =>
      times(requests, (i) => ({
        occurredAt: new Date(w.from.getTime() + ((i + 0.5) * (w.to.getTime() - w.from.getTime())) / requests),
        type: i < failures ? 'token.request_failed' : 'token.issued',
        outcome: i < failures ? 'failure' : 'success',
        reason: i < failures ? 'invalid_request' : null,
      }));

    it('fires when the failure rate doubles with at least 20 failures', async () => {
      const w = await windowWith((w) => [
        ...traffic({ from: new Date(w.from.getTime() - HOUR), to: w.from }, 100, 10), // 10 %
        ...traffic(w, 100, 25), // 25 %
      ]);
      const report = await run(w, failureRateSpikeRule);
      expect(report.findings).toHaveLength(1);
      expect(report.findings[0]).toMatchObject({
        rule: 'failure_rate_spike',
        count: 25,
        subject: { type: 'window' },
      });
      expect(report.findings[0].description).toContain('failure rate 25% (25/100 requests) vs 10% (10/100)');
      expect(report.findings[0].sample_event_ids).toHaveLength(5);
    });

    it('does not fire below twice the preceding rate, nor under 20 failures', async () => {
      const w1 = await windowWith((w) => [
        ...traffic({ from: new Date(w.from.getTime() - HOUR), to: w.from }, 100, 15),
        ...traffic(w, 100, 25), // 25 % < 2 × 15 %
      ]);
      expect((await run(w1, failureRateSpikeRule)).findings).toEqual([]);
      const w2 = await windowWith((w) => traffic(w, 30, 19)); // 63 % but only 19
      expect((await run(w2, failureRateSpikeRule)).findings).toEqual([]);
    });
  });

  describe('the summary', () => {
    it('counts distinct requests, failed requests, the rate and events by type', async () => {
      const w = await windowWith((w) => [
        // one request that failed and revoked a grant: two events, one request, one failure
        {
          occurredAt: at(w, 1),
          type: 'token.request_failed',
          outcome: 'failure',
          reason: 'refresh_reused',
          requestId: 'r1',
          clientId: 'm',
        },
        { occurredAt: at(w, 1), type: 'grant.revoked', outcome: 'success', requestId: 'r1', clientId: 'm' },
        { occurredAt: at(w, 2), type: 'token.issued', outcome: 'success', requestId: 'r2' },
        { occurredAt: at(w, 3), type: 'token.issued', outcome: 'success', requestId: 'r3' },
        { occurredAt: at(w, 4), type: 'token.issued', outcome: 'success', requestId: 'r4' },
        // at `to`: outside (to is exclusive)
        { occurredAt: w.to, type: 'token.issued', outcome: 'success', requestId: 'r5' },
      ]);
      const report = await reports.generate(w, []);
      expect(report).toEqual({
        window: { from: w.from.toISOString(), to: w.to.toISOString() },
        total_requests: 4,
        failures: 1,
        failure_rate: 0.25,
        by_type: { 'grant.revoked': 1, 'token.issued': 3, 'token.request_failed': 1 },
        findings: [],
        suspicious_patterns: [],
      });
    });

    it('has a zero failure rate and empty lists for an empty window', async () => {
      const w = await windowWith(() => []);
      const report = await reports.generate(w);
      expect(report).toMatchObject({
        total_requests: 0,
        failures: 0,
        failure_rate: 0,
        by_type: {},
        findings: [],
      });
    });

    it('lists every finding of all rules, most severe first, with its description in suspicious_patterns', async () => {
      const w = await windowWith((w) => [
        {
          occurredAt: at(w, 1),
          type: 'token.request_failed',
          outcome: 'failure',
          reason: 'code_replayed',
          clientId: 'web',
        },
        {
          occurredAt: at(w, 2),
          type: 'authorization.rejected',
          outcome: 'failure',
          reason: 'pkce_plain_rejected',
          clientId: 'legacy',
        },
      ]);
      const report = await reports.generate(w);
      expect(report.findings.map((f) => f.rule)).toEqual(['code_replay', 'pkce_downgrade_attempt']);
      expect(report.suspicious_patterns).toEqual(report.findings.map((f) => f.description));
    });
  });
});

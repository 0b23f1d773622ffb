import { REPORT_RULES } from '../../../src/audit/rules';
import { describeChallengeReuse } from '../../../src/audit/rules/challenge-reuse.rule';
import { describeClientEnumeration } from '../../../src/audit/rules/client-enumeration.rule';
import { describeClientSecretGuessing } from '../../../src/audit/rules/client-secret-guessing.rule';
import { describeCodeReplay } from '../../../src/audit/rules/code-replay.rule';
import {
  describeFailureRateSpike,
  failureRate,
  isFailureRateSpike,
  precedingWindow,
} from '../../../src/audit/rules/failure-rate-spike.rule';
import { describeIpFailureBurst } from '../../../src/audit/rules/ip-failure-burst.rule';
import { describeLoginBruteforce } from '../../../src/audit/rules/login-bruteforce.rule';
import {
  describePkceDowngradeAttempt,
  DOWNGRADE_REASONS,
} from '../../../src/audit/rules/pkce-downgrade-attempt.rule';
import { describePkceVerifierMismatch } from '../../../src/audit/rules/pkce-verifier-mismatch.rule';
import { describeRedirectUriProbing } from '../../../src/audit/rules/redirect-uri-probing.rule';
import { describeRefreshTokenReuse } from '../../../src/audit/rules/refresh-token-reuse.rule';
import {
  GroupRow,
  groupedSql,
  ReportRule,
  resolveThresholds,
  RuleContext,
  Sql,
  toFinding,
  unknownThresholds,
} from '../../../src/audit/rules/report-rule';

const row = (overrides: Partial<GroupRow>): GroupRow => ({
  subject_type: 'client_id',
  subject_value: 'app',
  count: 3,
  first_seen: new Date('2025-01-01T10:00:00Z'),
  last_seen: new Date('2025-01-01T10:04:00Z'),
  sample_ids: ['9', '8', '7', '6', '5', '4'],
  ...overrides,
});

const rule = (name: string) => REPORT_RULES.find((r) => r.name === name)!;

/** A rule run against a recording fake SQL runner: what it asks the database, what it makes of the rows. */
async function runRule(r: ReportRule, rows: GroupRow[], configured: Record<string, number> = {}) {
  const calls: Array<{ text: string; params: unknown[] }> = [];
  const sql = (async (text: string, params: unknown[]) => {
    calls.push({ text, params });
    return rows;
  }) as Sql;
  const window = { from: new Date('2025-01-01T00:00:00Z'), to: new Date('2025-01-02T00:00:00Z') };
  const ctx: RuleContext = {
    window,
    thresholds: resolveThresholds(r, configured),
    sql,
    totals: async () => ({
      requests: 0,
      failures: 0,
      failureEvents: 0,
      firstFailure: null,
      lastFailure: null,
    }),
    // no rollups: the whole window from the rows
    withRollups: (fn) => fn(sql, { rolledUp: [], raw: [window] }),
  };
  return { findings: await r.query(ctx), calls, window: [window.from, window.to] };
}

describe('report rules', () => {
  it('has the eleven rules of issue 6, the two of issue 15 and the two DPoP rules of issue 16, each with a severity, defaults and a summary', () => {
    expect(REPORT_RULES.map((r) => r.name)).toEqual([
      'ip_failure_burst',
      'pkce_verifier_mismatch',
      'code_replay',
      'refresh_token_reuse',
      'redirect_uri_probing',
      'client_enumeration',
      'pkce_downgrade_attempt',
      'login_bruteforce',
      'client_secret_guessing',
      'challenge_reuse',
      'failure_rate_spike',
      'prompt_none_probing',
      'user_admin_changes',
      'dpop_proof_replay',
      'dpop_key_mismatch',
    ]);
    for (const r of REPORT_RULES) {
      expect(['low', 'medium', 'high', 'critical']).toContain(r.severity);
      expect(Object.keys(r.defaults).length).toBeGreaterThan(0);
      expect(r.summary.length).toBeGreaterThan(10);
    }
  });

  it.each([
    ['ip_failure_burst', 'medium', { count: 10, window_seconds: 300 }],
    ['pkce_verifier_mismatch', 'high', { count: 3 }],
    ['code_replay', 'critical', { count: 1 }],
    ['refresh_token_reuse', 'critical', { count: 1 }],
    ['redirect_uri_probing', 'medium', { count: 3 }],
    ['client_enumeration', 'medium', { distinct_clients: 5 }],
    ['pkce_downgrade_attempt', 'medium', { count: 1 }],
    ['login_bruteforce', 'high', { per_username: 5, distinct_usernames: 10 }],
    ['client_secret_guessing', 'high', { count: 5 }],
    ['challenge_reuse', 'high', { count: 2 }],
    ['failure_rate_spike', 'medium', { ratio: 2, min_failures: 20 }],
    ['prompt_none_probing', 'medium', { count: 20 }],
    ['user_admin_changes', 'medium', { count: 10 }],
    ['dpop_proof_replay', 'high', { count: 1 }],
    ['dpop_key_mismatch', 'critical', { count: 1 }],
  ])('%s: severity %s, default thresholds %j', (name, severity, defaults) => {
    expect(rule(name).severity).toBe(severity);
    expect(rule(name).defaults).toEqual(defaults);
  });

  describe('thresholds from configuration (REPORT_<RULE>_<NAME>)', () => {
    it('overrides a default by its lower-case key and keeps the others', () => {
      expect(resolveThresholds(rule('login_bruteforce'), { login_bruteforce_per_username: 8 })).toEqual({
        per_username: 8,
        distinct_usernames: 10,
      });
    });

    it('names configured thresholds that no rule knows, as environment variables', () => {
      expect(
        unknownThresholds(REPORT_RULES, { ip_failure_burst_count: 3, ip_failure_brust_count: 3 }),
      ).toEqual(['REPORT_IP_FAILURE_BRUST_COUNT']);
    });

    it('passes the configured threshold to the SQL', async () => {
      const { calls } = await runRule(rule('client_secret_guessing'), [], {
        client_secret_guessing_count: 7,
      });
      expect(calls[0].params.slice(2)).toEqual([7]);
      const burst = await runRule(rule('ip_failure_burst'), [], { ip_failure_burst_window_seconds: 60 });
      // count, the span (inclusive frame), then the hourly pre-filter's ⌈count/2⌉ and the window as its range
      expect(burst.calls[0].params.slice(2)).toEqual([10, 59.999, 5, ...burst.window]);
      expect(burst.calls[0].text).toContain("GROUP BY ip, date_bin('1 hour'");
      expect(burst.calls[0].text).toContain('HAVING count(*) >= $5');
    });

    it('finds ip_failure_burst candidates exactly from the rows when the hourly pre-filter does not apply', async () => {
      // a span over an hour, or a count under 3 (⌈count/2⌉ < 2: hours with one failure are not rolled up)
      const configs: Array<Record<string, number>> = [
        { ip_failure_burst_window_seconds: 7200 },
        { ip_failure_burst_count: 2 },
      ];
      for (const configured of configs) {
        const { calls } = await runRule(rule('ip_failure_burst'), [], configured);
        expect(calls[0].text).not.toContain('audit_rollup_ip_failures');
        expect(calls[0].text).toContain('lead(occurred_at, $5)');
        const t = resolveThresholds(rule('ip_failure_burst'), configured);
        expect(calls[0].params.slice(2)).toEqual([t.count, t.window_seconds - 0.001, t.count - 1]);
      }
    });

    it('never lets challenge_reuse count a single use', async () => {
      const { calls } = await runRule(rule('challenge_reuse'), [], { challenge_reuse_count: 1 });
      expect(calls[0].params[0]).toBe(2);
      expect(calls[0].text).toContain('HAVING count(*) >= $1');
    });
  });

  describe('SQL shape', () => {
    it('groups one CTE over the window by each subject with its own threshold parameter', () => {
      const q = groupedSql(`reason = 'x'`, [
        { subject: 'client_id', min: 3 },
        { subject: 'ip', min: 4 },
      ]);
      expect(q.text).toContain('occurred_at >= $1 AND occurred_at < $2');
      expect(q.text).toContain('GROUP BY client_id HAVING count(*) >= $3');
      expect(q.text).toContain('GROUP BY ip HAVING count(*) >= $4');
      // first/last seen and sample ids only for the groups that qualify
      expect(q.text).toContain('FROM e JOIN g0 g ON e.client_id = g.k');
      expect(q.text).toContain('FROM e JOIN g1 g ON e.ip = g.k');
      expect(q.text).toContain('UNION ALL');
      const w = { from: new Date(1), to: new Date(2) };
      expect(q.params(w)).toEqual([w.from, w.to, 3, 4]);
    });

    it.each([
      ['pkce_verifier_mismatch', "reason = 'pkce_verifier_mismatch'"],
      ['code_replay', "reason = 'code_replayed'"],
      ['refresh_token_reuse', "reason = 'refresh_reused'"],
      ['redirect_uri_probing', "reason = 'code_redirect_uri_mismatch'"],
      ['client_enumeration', "reason = 'unknown_client'"],
      ['client_secret_guessing', "reason = 'bad_secret'"],
      ['login_bruteforce', "type = 'login.failed'"],
      ['challenge_reuse', "details->>'challenge_sha256'"],
      ['ip_failure_burst', "outcome = 'failure'"],
    ])('%s reads %s', async (name, fragment) => {
      const { calls } = await runRule(rule(name), []);
      expect(calls[0].text).toContain(fragment);
    });

    it('pkce_downgrade_attempt reads the four downgrade reasons and not a malformed challenge', async () => {
      const { calls } = await runRule(rule('pkce_downgrade_attempt'), []);
      for (const reason of DOWNGRADE_REASONS) expect(calls[0].text).toContain(`'${reason}'`);
      expect(calls[0].text).not.toContain('pkce_malformed_challenge');
    });
  });

  describe('findings', () => {
    it('carry rule, severity, subject, count, ISO times and at most 5 sample ids', async () => {
      const { findings } = await runRule(rule('code_replay'), [row({ count: '2' })]);
      expect(findings).toEqual([
        {
          rule: 'code_replay',
          severity: 'critical',
          subject: { type: 'client_id', value: 'app' },
          count: 2,
          first_seen: '2025-01-01T10:00:00.000Z',
          last_seen: '2025-01-01T10:04:00.000Z',
          description: expect.stringContaining('authorization code replayed 2 times'),
          sample_event_ids: ['9', '8', '7', '6', '5'],
        },
      ]);
    });

    it('toFinding accepts string timestamps and a missing sample list', () => {
      const f = toFinding(
        rule('code_replay'),
        row({ first_seen: '2025-01-01T10:00:00Z', sample_ids: null }),
        () => 'd',
      );
      expect(f.first_seen).toBe('2025-01-01T10:00:00.000Z');
      expect(f.sample_event_ids).toEqual([]);
    });
  });

  describe('descriptions', () => {
    const t = (name: string) => resolveThresholds(rule(name), {});

    it.each([
      [
        'ip_failure_burst',
        () =>
          describeIpFailureBurst(
            row({ subject_type: 'ip', subject_value: '203.0.113.7', count: 57, max_burst: 23 }),
            t('ip_failure_burst'),
          ),
        'IP 203.0.113.7: 57 failed requests in the window, up to 23 within 5 minutes (threshold 10)',
      ],
      [
        'pkce_verifier_mismatch (ip)',
        () =>
          describePkceVerifierMismatch(
            row({ subject_type: 'ip', subject_value: '192.0.2.1', count: 4 }),
            t('pkce_verifier_mismatch'),
          ),
        'IP 192.0.2.1: 4 PKCE verifier mismatches at the token endpoint (threshold 3)',
      ],
      [
        'code_replay',
        () => describeCodeReplay(row({ count: 1 })),
        'client_id "app": authorization code replayed 1 time',
      ],
      [
        'refresh_token_reuse',
        () => describeRefreshTokenReuse(row({ count: 1 })),
        'client_id "app": 1 rotated refresh token presented again',
      ],
      [
        'redirect_uri_probing',
        () => describeRedirectUriProbing(row({ count: 3 }), t('redirect_uri_probing')),
        'client_id "app": 3 redirect URI mismatches (threshold 3)',
      ],
      [
        'client_enumeration',
        () =>
          describeClientEnumeration(
            row({ subject_type: 'ip', subject_value: '192.0.2.9', count: 6, attempts: 9 }),
            t('client_enumeration'),
          ),
        'IP 192.0.2.9: 6 unknown client_ids tried in 9 requests (threshold 5)',
      ],
      [
        'pkce_downgrade_attempt',
        () => describePkceDowngradeAttempt(row({ count: 1 })),
        'client_id "app": 1 authorization request without S256 PKCE',
      ],
      [
        'login_bruteforce (username)',
        () =>
          describeLoginBruteforce(
            row({ subject_type: 'username', subject_value: 'u-1', count: 5 }),
            t('login_bruteforce'),
          ),
        'login subject "u-1": 5 failed logins (threshold 5)',
      ],
      [
        'login_bruteforce (ip)',
        () =>
          describeLoginBruteforce(
            row({ subject_type: 'ip', subject_value: '192.0.2.3', count: 12 }),
            t('login_bruteforce'),
          ),
        'IP 192.0.2.3: failed logins for 12 distinct usernames (threshold 10)',
      ],
      [
        'client_secret_guessing',
        () => describeClientSecretGuessing(row({ count: 5 }), t('client_secret_guessing')),
        'client_id "app": 5 wrong client secrets (threshold 5)',
      ],
      [
        'challenge_reuse',
        () =>
          describeChallengeReuse(
            row({ count: 2, clients: 1, challenge_hash: 'abcdef0123456789' }),
            t('challenge_reuse'),
          ),
        'client_id "app": the same code_challenge (SHA-256 abcdef012345…) in 2 authorization codes (threshold 2)',
      ],
    ])('%s', (_name, describe, expected) => {
      expect(describe()).toContain(expected);
    });

    it('quote subjects, so that a crafted client id cannot pass for text', () => {
      expect(describeCodeReplay(row({ subject_value: 'a" and everything is fine "' }))).toContain(
        'client_id "a\\" and everything is fine \\""',
      );
    });
  });

  describe('failure_rate_spike', () => {
    const t = { ratio: 2, min_failures: 20 };

    it('compares with the preceding window of equal length', () => {
      const w = { from: new Date('2025-01-02T00:00:00Z'), to: new Date('2025-01-02T06:00:00Z') };
      expect(precedingWindow(w)).toEqual({ from: new Date('2025-01-01T18:00:00Z'), to: w.from });
    });

    it('fires at twice the preceding rate with at least 20 failures', () => {
      expect(isFailureRateSpike({ requests: 100, failures: 20 }, { requests: 100, failures: 10 }, t)).toBe(
        true,
      );
      expect(isFailureRateSpike({ requests: 100, failures: 20 }, { requests: 100, failures: 11 }, t)).toBe(
        false,
      );
      expect(isFailureRateSpike({ requests: 30, failures: 19 }, { requests: 100, failures: 0 }, t)).toBe(
        false,
      );
    });

    it('reads a preceding window without traffic as rate 0', () => {
      expect(failureRate({ requests: 0, failures: 0 })).toBe(0);
      expect(isFailureRateSpike({ requests: 40, failures: 20 }, { requests: 0, failures: 0 }, t)).toBe(true);
      expect(describeFailureRateSpike({ requests: 40, failures: 20 }, { requests: 0, failures: 0 }, t)).toBe(
        'failure rate 50% (20/40 requests) vs no requests in the preceding window (threshold ×2 with ≥ 20 failures)',
      );
    });

    it('makes one finding about the whole window', async () => {
      const r = rule('failure_rate_spike');
      const window = { from: new Date('2025-01-02T00:00:00Z'), to: new Date('2025-01-03T00:00:00Z') };
      const findings = await r.query({
        window,
        thresholds: resolveThresholds(r, {}),
        sql: (async () => [{ id: '3' }, { id: '2' }]) as Sql,
        totals: async (w) =>
          w.from.getTime() === window.from.getTime()
            ? {
                requests: 100,
                failures: 30,
                failureEvents: 30,
                firstFailure: new Date('2025-01-02T01:00:00Z'),
                lastFailure: new Date('2025-01-02T02:00:00Z'),
              }
            : { requests: 100, failures: 5, failureEvents: 5, firstFailure: null, lastFailure: null },
        withRollups: () => Promise.reject(new Error('failure_rate_spike reads no rollup')),
      });
      expect(findings).toEqual([
        {
          rule: 'failure_rate_spike',
          severity: 'medium',
          subject: { type: 'window', value: '2025-01-02T00:00:00.000Z/2025-01-03T00:00:00.000Z' },
          count: 30,
          first_seen: '2025-01-02T01:00:00.000Z',
          last_seen: '2025-01-02T02:00:00.000Z',
          description:
            'failure rate 30% (30/100 requests) vs 5.0% (5/100) in the preceding window (threshold ×2 with ≥ 20 failures)',
          sample_event_ids: ['3', '2'],
        },
      ]);
    });
  });
});

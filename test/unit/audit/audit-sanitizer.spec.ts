import {
  cleanText,
  isSecretKey,
  MAX_DETAILS_JSON,
  sanitizeDetails,
  validDuration,
  validInet,
} from '../../../src/audit/audit-sanitizer';
import { toAuditRow } from '../../../src/audit/audit-row';
import type { AuditEventPayload } from '../../../src/events/events';

describe('audit sanitizer', () => {
  describe('sanitizeDetails', () => {
    it.each([
      'code',
      'code_verifier',
      'password',
      'client_secret',
      'refresh_token',
      'access_token',
      'token',
      'secret',
      'Password',
      'CLIENT-SECRET',
      'new_password',
      'session_token',
      'authorization',
      'cookie',
    ])('drops a key named %s', (key) => {
      expect(sanitizeDetails({ [key]: 'value', keep: 1 }, null)).toEqual({ keep: 1 });
      expect(isSecretKey(key)).toBe(true);
    });

    it.each([
      'token_type',
      'code_state',
      'challenge_sha256',
      'grant_type',
      'grant_id',
      'kid',
      'reason',
      'scope',
    ])('keeps the fact %s', (key) => {
      expect(sanitizeDetails({ [key]: 'v' }, null)).toEqual({ [key]: 'v' });
      expect(isSecretKey(key)).toBe(false);
    });

    it('drops secret keys at any depth, in objects and arrays', () => {
      expect(
        sanitizeDetails({ a: { b: { password: 'p', ok: true } }, list: [{ token: 't', n: 1 }, 'x'] }, null),
      ).toEqual({ a: { b: { ok: true } }, list: [{ n: 1 }, 'x'] });
    });

    it('stores the reason in details.reason', () => {
      expect(sanitizeDetails({ grant_type: 'refresh_token' }, 'refresh_reused')).toEqual({
        grant_type: 'refresh_token',
        reason: 'refresh_reused',
      });
      expect(sanitizeDetails(undefined, 'x')).toEqual({ reason: 'x' });
    });

    it('survives cycles, functions, dates, bigints and non-finite numbers', () => {
      const cyclic: Record<string, unknown> = { n: Infinity, f: () => 1, d: new Date(0), b: 10n };
      cyclic.self = cyclic;
      expect(sanitizeDetails(cyclic, null)).toEqual({ n: null, d: '1970-01-01T00:00:00.000Z', b: '10' });
    });

    it('replaces an oversized details object by a marker', () => {
      const big = { list: Array.from({ length: 100 }, () => 'x'.repeat(1000)) };
      const out = sanitizeDetails(big, 'r');
      expect(out).toEqual({ truncated: true, reason: 'r' });
      expect(JSON.stringify(out).length).toBeLessThan(MAX_DETAILS_JSON);
    });

    it('ignores a details value that is not an object', () => {
      expect(sanitizeDetails('text' as unknown, null)).toEqual({});
      expect(sanitizeDetails([1, 2] as unknown, null)).toEqual({});
    });
  });

  describe('cleanText', () => {
    it('removes NUL, repairs lone surrogates and truncates', () => {
      expect(cleanText('a\u0000b', 10)).toBe('ab');
      expect(cleanText('x\ud800y', 10)).toBe('x\ufffdy');
      expect(cleanText('😀😀', 3)).toBe('😀\ufffd'); // a pair cut in half is repaired
      expect(cleanText(null, 5)).toBeNull();
      expect(cleanText(42, 5)).toBe('42');
    });
  });

  describe('validInet', () => {
    it.each([
      ['203.0.113.7', '203.0.113.7'],
      ['2001:db8::1', '2001:db8::1'],
      ['fe80::1%eth0', 'fe80::1'],
      ['not-an-ip', null],
      ['1.2.3.4, 5.6.7.8', null],
      ['', null],
      [undefined, null],
      [42, null],
    ])('%p → %p', (input, expected) => {
      expect(validInet(input)).toBe(expected);
    });
  });

  it('validDuration keeps int4 milliseconds', () => {
    expect(validDuration(12.6)).toBe(13);
    expect(validDuration(-1)).toBeNull();
    expect(validDuration(NaN)).toBeNull();
    expect(validDuration(1e12)).toBe(2_147_483_647);
  });

  it('toAuditRow bounds every column', () => {
    const payload: AuditEventPayload = {
      type: 'login.failed',
      outcome: 'failure',
      errorCode: null,
      reason: 'invalid_credentials',
      clientId: 'c'.repeat(300),
      subject: 's'.repeat(300),
      details: { password: 'p', attempt: 2 },
      occurredAt: new Date(0),
      ip: 'junk',
      userAgent: 'u'.repeat(1000),
      durationMs: 5,
      requestId: 'r'.repeat(100),
    };
    const row = toAuditRow(payload);
    expect(row).toMatchObject({
      type: 'login.failed',
      outcome: 'failure',
      reason: 'invalid_credentials',
      ip: null,
      durationMs: 5,
      details: { attempt: 2, reason: 'invalid_credentials' },
    });
    expect(row.clientId).toHaveLength(128);
    expect(row.subject).toHaveLength(128);
    expect(row.userAgent).toHaveLength(256); // USER_AGENT_MAX: the sender writes it;
    expect(row.requestId).toHaveLength(64);
  });
});

import { normalizeUsername, passwordProblem, usernameProblem } from '../../../src/users/username';

describe('usernames: unique case-insensitively after NFKC', () => {
  it('normalises case, surrounding spaces and compatibility forms', () => {
    expect(normalizeUsername('  Alice ')).toBe('alice');
    expect(normalizeUsername('ＡＬＩＣＥ')).toBe('alice'); // full-width
    expect(normalizeUsername('ﬁona')).toBe('fiona'); // ligature
  });

  it('accepts 1 to 64 characters (docs/users.md)', () => {
    expect(usernameProblem('a')).toBeNull();
    expect(usernameProblem('x'.repeat(64))).toBeNull();
    expect(usernameProblem('é'.repeat(64))).toBeNull();
    expect(usernameProblem('x'.repeat(65))).toMatch(/at most 64/);
    expect(usernameProblem('   ')).toMatch(/empty/);
    expect(usernameProblem(42)).toMatch(/string/);
  });

  it('refuses control characters', () => {
    expect(usernameProblem('ali\u0000ce')).toMatch(/control/);
    expect(usernameProblem('ali\u200bce')).toMatch(/control/);
  });

  it('requires passwords of at least PASSWORD_MIN_LENGTH (default 12) characters, at most 1024', () => {
    expect(passwordProblem('12345678901')).toMatch(/at least 12/);
    expect(passwordProblem('123456789012')).toBeNull();
    expect(passwordProblem('1234567', 8)).toMatch(/at least 8/);
    expect(passwordProblem('12345678', 8)).toBeNull();
    expect(passwordProblem('x'.repeat(1025))).toMatch(/at most/);
    expect(passwordProblem(undefined)).toMatch(/string/);
  });
});

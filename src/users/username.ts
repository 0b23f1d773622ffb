/** Usernames are case-insensitive and compared after Unicode compatibility normalisation. */
export const USERNAME_MAX_LENGTH = 64;
/** The default of PASSWORD_MIN_LENGTH (docs/configuration.md). */
export const PASSWORD_MIN_LENGTH = 12;
/** Longer inputs are refused before any hashing (a KDF over megabytes is a denial of service). */
export const PASSWORD_MAX_LENGTH = 1024;

/** NFKC, trimmed, lower-case: "  Alice " and "ＡＬＩＣＥ" are the same account. */
export function normalizeUsername(value: string): string {
  return value.normalize('NFKC').trim().toLowerCase();
}

/** Length in Unicode code points (what PostgreSQL's varchar(n) counts). */
export function codePoints(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}

/** Why a username cannot be registered, or null when it can. */
export function usernameProblem(value: unknown): string | null {
  if (typeof value !== 'string') return 'the username must be a string';
  const display = value.trim();
  const normalized = normalizeUsername(value);
  if (normalized.length === 0) return 'the username must not be empty';
  if (codePoints(display) > USERNAME_MAX_LENGTH || codePoints(normalized) > USERNAME_MAX_LENGTH)
    return `the username must be at most ${USERNAME_MAX_LENGTH} characters`;
  if (/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(normalized))
    return 'the username must not contain control characters';
  return null;
}

/** Why a password cannot be set, or null when it can. */
export function passwordProblem(value: unknown, minLength = PASSWORD_MIN_LENGTH): string | null {
  if (typeof value !== 'string') return 'the password must be a string';
  const length = codePoints(value);
  if (length < minLength) return `the password must be at least ${minLength} characters`;
  if (length > PASSWORD_MAX_LENGTH) return `the password must be at most ${PASSWORD_MAX_LENGTH} characters`;
  return null;
}

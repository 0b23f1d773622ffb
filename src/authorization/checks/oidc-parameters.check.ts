import { CheckResult, fail, pass } from './rejection';

/** OIDC Core §3.1.2.1 request parameters, as the authorization endpoint uses them. */
export interface OidcParameters {
  /** exactly as sent (only when `openid` was requested; ignored otherwise) */
  nonce: string | null;
  /** prompt=none: never show a page (login_required / consent_required instead) */
  promptNone: boolean;
  /** prompt=login: sign in again even with a session (a new auth_time) */
  forceLogin: boolean;
  /** prompt=consent: ask again even if consented before */
  forceConsent: boolean;
  /** max_age in seconds, or null */
  maxAge: number | null;
}

export const NONCE_MAX_LENGTH = 255;
const PROMPT_VALUES = new Set(['none', 'login', 'consent']);
/** max_age: a non-negative integer number of seconds (capped: larger values mean "any age"). */
const MAX_AGE = /^\d{1,10}$/;

/**
 * docs/openid-connect.md, the authorization request: `nonce` at most 255 characters; `prompt` a
 * space-separated list of none/login/consent, `none` alone; `max_age` a non-negative integer. Repetition
 * is already refused by the duplicate-parameter check. Without `openid` the nonce is ignored, while
 * prompt and max_age still apply.
 */
export function checkOidcParameters(
  scopes: readonly string[],
  nonce: string | undefined,
  prompt: string | undefined,
  maxAge: string | undefined,
): CheckResult<OidcParameters> {
  if (nonce !== undefined && nonce.length > NONCE_MAX_LENGTH)
    return fail('invalid_request', 'invalid_nonce', `nonce must be at most ${NONCE_MAX_LENGTH} characters`);
  const prompts = new Set((prompt ?? '').split(' ').filter(Boolean));
  for (const p of prompts)
    if (!PROMPT_VALUES.has(p))
      return fail('invalid_request', 'invalid_prompt', 'prompt must be none, login or consent');
  if (prompts.has('none') && prompts.size > 1)
    return fail('invalid_request', 'invalid_prompt', 'prompt=none cannot be combined with another value');
  if (maxAge !== undefined && !MAX_AGE.test(maxAge))
    return fail('invalid_request', 'invalid_max_age', 'max_age must be a non-negative integer');
  return pass({
    nonce: scopes.includes('openid') && nonce !== undefined ? nonce : null,
    promptNone: prompts.has('none'),
    forceLogin: prompts.has('login'),
    forceConsent: prompts.has('consent'),
    maxAge: maxAge === undefined ? null : Number(maxAge),
  });
}

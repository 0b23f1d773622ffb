import { escapeHtml, layout } from '../../http/html';
import { CSRF_FIELD } from '../csrf.service';

/** The one message for every failed login: unknown user, wrong password and lockout look the same. */
export const LOGIN_FAILED_MESSAGE = 'Incorrect username or password.';

export interface LoginPageModel {
  csrfToken: string;
  /** the pending authorization request this login continues, if any */
  requestId?: string;
  /** shown again after a failure */
  username?: string;
  failed?: boolean;
  /** the server refused to check the password now (too many logins at once): try again shortly */
  busy?: boolean;
  /** OIDC prompt=login / max_age: the user signed in now, whose session a new sign-in replaces */
  replacing?: string;
}

/** Shown when the bound on password checks refused an attempt (503 with Retry-After). */
export const LOGIN_BUSY_MESSAGE = 'Too many sign-ins right now. Please try again in a few seconds.';

export function loginPage(m: LoginPageModel): string {
  const username = m.username ?? '';
  const focusPassword = Boolean(m.failed && username);
  return layout(
    'Sign in',
    `<h1>Sign in</h1>
<p class="muted">${m.requestId ? 'Sign in to continue to the application that sent you here.' : 'Sign in to your account.'}</p>
${m.replacing !== undefined ? `<p class="notice" id="reauthenticate">The application asks you to sign in again. You are signed in as <strong>${escapeHtml(m.replacing)}</strong>; signing in replaces that session.</p>` : ''}
${m.failed ? `<div class="error" role="alert" id="login-error">${escapeHtml(LOGIN_FAILED_MESSAGE)}</div>` : ''}${m.busy ? `<div class="error" role="alert" id="login-error">${escapeHtml(LOGIN_BUSY_MESSAGE)}</div>` : ''}
<form method="post" action="/login">
  <input type="hidden" name="${CSRF_FIELD}" value="${escapeHtml(m.csrfToken)}">
  ${m.requestId ? `<input type="hidden" name="request" value="${escapeHtml(m.requestId)}">` : ''}
  <label for="username">Username</label>
  <input id="username" name="username" type="text" value="${escapeHtml(username)}" autocomplete="username"
    autocapitalize="none" spellcheck="false" required maxlength="200"${focusPassword ? '' : ' autofocus'}${m.failed ? ' aria-describedby="login-error" aria-invalid="true"' : ''}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required${focusPassword ? ' autofocus' : ''}${m.failed ? ' aria-describedby="login-error" aria-invalid="true"' : ''}>
  <button type="submit" class="wide">Sign in</button>
</form>`,
  );
}

export function signedInPage(m: { username: string; csrfToken: string }): string {
  return layout(
    'Signed in',
    `<h1>You are signed in</h1>
<p>Signed in as <strong>${escapeHtml(m.username)}</strong>. You can close this page and return to your application.</p>
<form method="post" action="/logout">
  <input type="hidden" name="${CSRF_FIELD}" value="${escapeHtml(m.csrfToken)}">
  <button type="submit" class="secondary">Sign out</button>
</form>`,
  );
}

export function signedOutPage(): string {
  return layout(
    'Signed out',
    `<h1>You are signed out</h1>
<p>Your session has ended. <a href="/login">Sign in again</a></p>`,
  );
}

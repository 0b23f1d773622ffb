import { escapeHtml, layout } from '../http/html';
import { CSRF_FIELD } from '../users/csrf.service';

/** The parameters a confirmed logout carries through its form (checked again on POST). */
export interface LogoutFormFields {
  client_id?: string;
  post_logout_redirect_uri?: string;
  state?: string;
}

/** RP-Initiated Logout 1.0 §2: asks the user to confirm a logout that no valid id_token_hint backs. */
export function confirmLogoutPage(m: {
  csrfToken: string;
  username: string;
  clientName?: string;
  fields: LogoutFormFields;
}): string {
  const hidden = Object.entries(m.fields)
    .filter(([, v]) => typeof v === 'string' && v !== '')
    .map(([k, v]) => `<input type="hidden" name="${k}" value="${escapeHtml(v as string)}">`)
    .join('\n  ');
  return layout(
    'Sign out?',
    `<h1 id="logout-title">Sign out of Latchkey?</h1>
<p>${m.clientName ? `<strong>${escapeHtml(m.clientName)}</strong> asks to sign you out. ` : ''}You are signed in as <strong>${escapeHtml(m.username)}</strong>.</p>
<form method="post" action="/oauth/logout" aria-labelledby="logout-title">
  <input type="hidden" name="${CSRF_FIELD}" value="${escapeHtml(m.csrfToken)}">
  ${hidden}
  <div class="actions">
    <button type="submit" name="logout" value="yes">Sign out</button>
  </div>
</form>`,
  );
}

export function loggedOutPage(): string {
  return layout(
    'Signed out',
    `<h1 id="signed-out">You are signed out</h1>
<p>Your Latchkey session has ended. You can close this page.</p>`,
  );
}

export function invalidLogoutPage(message: string): string {
  return layout(
    'Sign-out request not valid',
    `<h1>Sign-out request not valid</h1><p role="alert">${escapeHtml(message)}</p>`,
  );
}

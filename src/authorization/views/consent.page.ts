import { escapeHtml, layout } from '../../http/html';
import { CSRF_FIELD } from '../../users/csrf.service';
import { describeScope } from '../scope-descriptions';

export interface ConsentPageModel {
  clientName: string;
  username: string;
  scopes: readonly string[];
  /** where the user goes back to, shown so that a look-alike application is easier to spot */
  redirectUri: string;
  requestId: string;
  csrfToken: string;
}

/** Where the user returns to, in words: the host, or "this device" for a native app's loopback URI. */
export function destination(redirectUri: string): string {
  try {
    const url = new URL(redirectUri);
    if (url.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === '[::1]'))
      return 'an application on this device';
    return url.host || url.protocol.replace(/:$/, '');
  } catch {
    return redirectUri;
  }
}

export function consentPage(m: ConsentPageModel): string {
  const scopes = m.scopes.length
    ? `<p>If you allow it, <strong>${escapeHtml(m.clientName)}</strong> will be able to:</p>
<ul class="scopes">${m.scopes
        .map(
          (s) =>
            `<li><code class="scope">${escapeHtml(s)}</code><span class="scope-description">${escapeHtml(describeScope(s))}</span></li>`,
        )
        .join('')}</ul>`
    : `<p><strong>${escapeHtml(m.clientName)}</strong> asks only to know that you signed in; it gets no other access.</p>`;
  return layout(
    'Allow access?',
    `<h1 id="consent-title"><span class="client-name">${escapeHtml(m.clientName)}</span> wants to access your account</h1>
<p class="muted">Signed in as <strong>${escapeHtml(m.username)}</strong></p>
${scopes}
<p class="muted small">After you decide, you return to <strong>${escapeHtml(destination(m.redirectUri))}</strong>.</p>
<form method="post" action="/consent" aria-labelledby="consent-title">
  <input type="hidden" name="${CSRF_FIELD}" value="${escapeHtml(m.csrfToken)}">
  <input type="hidden" name="request" value="${escapeHtml(m.requestId)}">
  <div class="actions">
    <button type="submit" name="decision" value="approve">Allow</button>
    <button type="submit" name="decision" value="deny" class="secondary">Deny</button>
  </div>
</form>`,
  );
}

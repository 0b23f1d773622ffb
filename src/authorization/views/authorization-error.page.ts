import { escapeHtml, layout } from '../../http/html';

/**
 * The page shown instead of a redirect when the request cannot be sent back to the application safely
 * (unknown client, unregistered redirect URI, …) or when the sign-in request has expired.
 */
export function authorizationErrorPage(m: { title: string; message: string; detail?: string }): string {
  return layout(
    m.title,
    `<h1>${escapeHtml(m.title)}</h1>
<p role="alert">${escapeHtml(m.message)}</p>
${m.detail ? `<p class="detail"><span class="muted">For the application’s developer:</span> ${escapeHtml(m.detail)}</p>` : ''}
<p class="muted">Go back to the application and start again. If this keeps happening, contact the application’s support.</p>`,
  );
}

export const INVALID_REQUEST_TITLE = 'This sign-in link cannot be used';
export const INVALID_REQUEST_MESSAGE =
  'The application sent you here with a request that is not valid, so you cannot be sent back to it.';
export const EXPIRED_REQUEST_TITLE = 'This sign-in request has expired';
export const EXPIRED_REQUEST_MESSAGE =
  'The request to sign in to the application is no longer valid: it expired or was already completed.';

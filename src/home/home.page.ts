import { branding } from '../http/branding';
import { escapeHtml, layout } from '../http/html';

export interface HomePageModel {
  version: string;
  issuer: string;
  docs: boolean;
}

/** GET /: what this server is and where to go next (for someone who just opened the issuer URL). */
export function homePage(m: HomePageModel): string {
  const link = (href: string, text: string, note: string) =>
    `<li><a href="${escapeHtml(href)}">${escapeHtml(text)}</a> <span class="muted small">${escapeHtml(note)}</span></li>`;
  return layout(
    'OAuth 2.1 authorization server',
    `<h1>${escapeHtml(branding().name)}</h1>
<p>An OAuth 2.1 authorization server. Issuer: <code>${escapeHtml(m.issuer)}</code></p>
<ul class="links">
${m.docs ? link('/docs', 'API documentation', 'OpenAPI, try it with a client_credentials token') : ''}
${link('/.well-known/oauth-authorization-server', 'Authorization server metadata', 'RFC 8414')}
${link('/oauth/jwks', 'Signing keys', 'JWK Set')}
${link('/health/ready', 'Health', 'readiness')}
${link('/audit', 'Audit console', 'security report and events, for auditors')}
</ul>
<p class="muted small">Latchkey ${escapeHtml(m.version)}</p>`,
  );
}
